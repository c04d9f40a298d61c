import { afterEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

const GANTZ = `name: plain
tools:
  word_count:
    parameters:
      text: { type: string, required: true }
    script:
      shell: printf '%s' {{text}} | wc -w | tr -d ' '
`;
const TEAM = `team: { name: plain }
agents:
  - role: worker
    count: 2
    tools: [word_count, monitor_agents]
workflows:
  check:
    - { id: watch, agent: worker, action: monitor_agents }
  scale_agents:
    - { id: count, agent: worker, action: word_count, with: { text: a workflow of that name } }
`;

let cleanup = (): void => {};
afterEach(() => cleanup());

function project(files: Record<string, string> = { 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM }): string {
  const p = tempProject(files);
  cleanup = p.cleanup;
  return p.dir;
}

const task = JSON.stringify({ subtasks: [{ id: 'a', tool: 'word_count', input: { text: 'one two three' } }, { id: 'b', tool: 'word_count', input: { text: 'four' } }] });

describe('the six orchestration tools, in a project that does not declare them', () => {
  it('run with `orch run`, as `orch scale` does', () => {
    const dir = project();
    const done = orch(['--json', 'run', 'orchestrate', '--task', task], { cwd: dir });
    expect(done.stderr).toBe('');
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'completed', subtasks: { a: { result: '3' }, b: { result: '1' } } });
    const monitored = orch(['--json', 'run', 'monitor_agents'], { cwd: dir });
    expect(JSON.parse(monitored.stdout)).toMatchObject({ total_agents: 2 });
    expect(orch(['run', 'assign_task', '--agent-id', 'worker-1', '--task', '{"tool": "word_count", "input": {"text": "x y"}}'], { cwd: dir }).code).toBe(0);
  });

  it('are actions a workflow step can take, and a workflow of the same name keeps its name', () => {
    const dir = project();
    const check = orch(['--json', 'run', 'check'], { cwd: dir });
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ status: 'succeeded', steps: [{ id: 'watch', output: { total_agents: 2 } }] });
    const shadow = orch(['--json', 'run', 'scale_agents'], { cwd: dir });
    expect(JSON.parse(shadow.stdout)).toMatchObject({ workflow: 'scale_agents', status: 'succeeded' });
  });

  it('exist in a project with an agent-team.yaml alone', () => {
    const dir = project({ 'agent-team.yaml': 'agents:\n  - role: worker\n' });
    const r = orch(['--json', 'run', 'scale_agents', '--agent-type', 'worker', '--count', '3'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ agent_type: 'worker', new_count: 3 });
  });

  it('are listed apart from what the project declares by `orch validate`, and not served unless declared', async () => {
    const dir = project();
    const v = orch(['validate'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('valid: gantz.yaml, agent-team.yaml — 1 tool, 1 agent, 2 workflows, 0 MCP servers');
    expect(v.stdout).toContain('  tools:        word_count\n');
    expect(v.stdout).toContain('  agents:       worker\n');
    expect(v.stdout).toContain('  workflows:    check, scale_agents\n');
    expect(v.stdout).toContain('  built in:     orchestrate, assign_task, monitor_agents, aggregate_results, handle_failure\n');
    const json = JSON.parse(orch(['validate', '--json'], { cwd: dir }).stdout);
    expect(json.declared).toEqual({ tools: ['word_count'], agents: ['worker'], workflows: ['check', 'scale_agents'], servers: [] });
  });

  it('may still be declared in gantz.yaml, which then counts them as the project tools', () => {
    const gantz = `${GANTZ}  orchestrate:\n    description: Mine\n    parameters:\n      task: { type: object, required: true }\n    handler: orchestration.orchestrate\n`;
    const dir = project({ 'gantz.yaml': gantz });
    const v = orch(['validate', '--json'], { cwd: dir });
    const json = JSON.parse(v.stdout);
    expect(json.declared.tools).toEqual(['word_count', 'orchestrate']);
    expect(json.builtin_tools).not.toContain('orchestrate');
    expect(orch(['run', 'orchestrate', '--task', task], { cwd: dir }).code).toBe(0);
  });
});

describe('orch runs, orch status and orch logs', () => {
  it('agree on orchestration tasks: each lists them and logs shows them', () => {
    const dir = project();
    const report = JSON.parse(orch(['--json', 'run', 'orchestrate', '--task', task], { cwd: dir }).stdout) as { task_id: string };
    expect(orch(['run', 'check'], { cwd: dir }).code).toBe(0);

    const runs = JSON.parse(orch(['runs', '--json'], { cwd: dir }).stdout) as { id: string; kind: string; status: string; tool?: string }[];
    expect(runs).toMatchObject([
      { id: report.task_id, kind: 'task', tool: 'orchestrate', coordination: 'centralized', status: 'completed' },
      { kind: 'workflow', workflow: 'check', status: 'succeeded' },
    ]);
    const table = orch(['runs'], { cwd: dir }).stdout;
    expect(table).toMatch(new RegExp(`${report.task_id}\\s+task\\s+orchestrate \\(centralized\\)\\s+completed`));

    const status = JSON.parse(orch(['status', '--json'], { cwd: dir }).stdout) as { recent: { id: string; kind: string; status: string }[] };
    expect(status.recent.map((r) => r.id).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(status.recent).toContainEqual(expect.objectContaining({ id: report.task_id, kind: 'task', status: 'completed' }));

    const logs = orch(['logs', report.task_id], { cwd: dir });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(`task ${report.task_id} started: orchestrate, centralized, 2 subtasks`);
    expect(logs.stdout).toContain('task completed: 2 succeeded, 0 failed');
    expect(logs.stdout).toMatch(/a: succeeded on worker-\d, 1 attempt → 3/);
    const logsJson = JSON.parse(orch(['logs', '--json', report.task_id], { cwd: dir }).stdout) as { id: string; events: { type: string }[] };
    expect(logsJson.events.map((e) => e.type)).toEqual(['task_started', 'task_finished']);
  });

  it('know assign_task tasks too, and refuse ids that are paths', () => {
    const dir = project();
    const assigned = JSON.parse(orch(['--json', 'run', 'assign_task', '--agent-id', 'worker-1', '--task', '{"tool": "word_count", "input": {"text": "x y"}}'], { cwd: dir }).stdout) as { task_id: string };
    const runs = JSON.parse(orch(['runs', '--json'], { cwd: dir }).stdout);
    expect(runs).toMatchObject([{ id: assigned.task_id, kind: 'task', tool: 'assign_task', status: 'completed' }]);
    expect(orch(['logs', assigned.task_id], { cwd: dir }).stdout).toContain('started: assign_task');
    for (const bad of ['..', '../..', 'task-nope']) {
      const r = orch(['logs', bad], { cwd: dir });
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('ORCH_UNKNOWN_RUN');
    }
    const escape = orch(['run', 'assign_task', '--agent-id', 'worker-1', '--task', '{"id": "../../evil", "tool": "word_count", "input": {"text": "x"}}'], { cwd: dir });
    expect(escape.code).toBe(2);
    expect(escape.stderr).toContain('cannot be a task id');
  });
});
