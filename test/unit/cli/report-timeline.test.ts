import { describe, expect, it } from 'vitest';
import { timelineHtml } from '../../../src/cli/report/html.js';
import { timelineText } from '../../../src/cli/report/text.js';
import { runTimeline, taskTimeline } from '../../../src/cli/report/timeline.js';
import type { RunEvent } from '../../../src/state/events.js';

const at = (ms: number): string => new Date(Date.parse('2026-11-22T10:00:00.000Z') + ms).toISOString();
const usage = { input_tokens: 100, output_tokens: 20, cost_usd: 0.0006 };

// A run as its journal has it: a tool step with a gate, an LLM step that delegates, a step that failed after a retry, one skipped.
const events: RunEvent[] = [
  { type: 'run_started', at: at(0), run_id: '20261122-100000-abcdef', workflow: 'ship', inputs: {}, dir: '/p', pid: 1 },
  { type: 'step_started', at: at(10), step: 'build', attempt: 1, agent: 'builder', agent_id: 'builder-1' },
  { type: 'step_succeeded', at: at(110), step: 'build', output: 'ok', duration_ms: 100 },
  { type: 'gate_decided', at: at(150), step: 'build', decision: 'approved', by: 'alice', method: 'prompt', when: 'after' },
  { type: 'step_started', at: at(200), step: 'plan', attempt: 1, agent: 'lead', agent_id: 'lead-1' },
  { type: 'model_turn', at: at(300), step: 'plan', turn: 1, model: 'claude-sonnet-4-5', request_digest: 'd', text: '', tool_calls: [], usage, duration_ms: 100 },
  { type: 'tool_call_started', at: at(300), step: 'plan', turn: 1, call_id: 'c1', tool: 'dispatch_to_agent', input: { agent: 'helper' } },
  { type: 'model_turn', at: at(350), step: 'plan', turn: 1, model: 'claude-sonnet-4-5', request_digest: 'd', text: '', tool_calls: [], usage, duration_ms: 40, via: 'c1', agent: 'helper' },
  { type: 'tool_call_started', at: at(350), step: 'plan', turn: 1, call_id: 'c2', tool: 'lookup', input: {}, via: 'c1', agent: 'helper' },
  { type: 'tool_call_finished', at: at(380), step: 'plan', turn: 1, call_id: 'c2', tool: 'lookup', ok: true, output: 'x', duration_ms: 30, via: 'c1', agent: 'helper' },
  { type: 'tool_call_finished', at: at(400), step: 'plan', turn: 1, call_id: 'c1', tool: 'dispatch_to_agent', ok: true, output: 'done', duration_ms: 100 },
  { type: 'tool_call_finished', at: at(410), step: 'plan', turn: 2, call_id: 'c3', tool: 'rm_rf', ok: false, error: 'not yours', refused: true, duration_ms: 0 },
  { type: 'step_succeeded', at: at(500), step: 'plan', output: 'planned', duration_ms: 300 },
  { type: 'step_started', at: at(510), step: 'deploy', attempt: 1, agent_id: 'deployer-2' },
  { type: 'step_failed', at: at(520), step: 'deploy', error: 'flaky', attempt: 1, duration_ms: 10, final: false, code: 'ORCH_TOOL_FAILED' },
  { type: 'step_started', at: at(600), step: 'deploy', attempt: 2, agent_id: 'deployer-1' },
  { type: 'step_failed', at: at(700), step: 'deploy', error: 'down', attempt: 2, duration_ms: 100, final: true, code: 'ORCH_TOOL_FAILED' },
  { type: 'step_skipped', at: at(700), step: 'notify', reason: 'a step it needs failed', blocked: true },
  { type: 'run_finished', at: at(800), status: 'failed' },
];

describe('the report timeline, from a journal', () => {
  const t = runTimeline(events);

  it('has a bar per step that ran, its calls beneath it, a delegated run one level deeper', () => {
    expect(t.bars.map((b) => `${'.'.repeat(b.depth)}${b.kind}:${b.label}:${b.status}`)).toEqual([
      'step:build:succeeded',
      'step:plan:succeeded',
      '.model:turn 1:succeeded',
      '.tool:dispatch_to_agent:succeeded',
      '..model:helper turn 1:succeeded',
      '..tool:lookup:succeeded',
      '.tool:rm_rf:refused',
      'step:deploy:failed',
    ]);
    const deploy = t.bars.find((b) => b.label === 'deploy');
    // From the first attempt's start to the last one's end, on the instance of the last attempt.
    expect(deploy).toMatchObject({ start_ms: 510, end_ms: 700, agent: 'deployer', instance: 'deployer-1' });
    expect(t.bars.find((b) => b.label === 'turn 1')).toMatchObject({ start_ms: 200, end_ms: 300, detail: 'claude-sonnet-4-5' });
  });

  it('has every step in the table, usage per step, per agent (a delegated run for its own agent) and in total', () => {
    expect(t.steps.map((s) => [s.id, s.agent, s.status, s.attempts])).toEqual([
      ['build', 'builder', 'succeeded', 1],
      ['plan', 'lead', 'succeeded', 1],
      ['deploy', 'deployer', 'failed', 2],
      ['notify', undefined, 'skipped', 0],
    ]);
    expect(t.steps.find((s) => s.id === 'plan')?.usage).toEqual({ input_tokens: 200, output_tokens: 40, cost_usd: 0.0012 });
    expect(t.by_agent).toEqual({ lead: usage, helper: usage });
    expect(t.usage).toEqual({ input_tokens: 200, output_tokens: 40, cost_usd: 0.0012 });
  });

  it('marks gates with who decided, and lists every error, retried attempts and refused calls included', () => {
    expect(t.gates).toEqual([{ step: 'build', at_ms: 150, at: at(150), when: 'after', decision: 'approved', by: 'alice', method: 'prompt' }]);
    expect(t.errors.map((e) => `${e.where}: ${e.message}`)).toEqual([
      'step plan, tool rm_rf (refused): not yours',
      'step deploy (attempt 1, retried): flaky',
      'step deploy: down',
    ]);
  });

  it('prints the same as text and draws it as HTML: one step bar per step that ran, the gate as a diamond', () => {
    const text = timelineText(t);
    expect(text).toContain('workflow ship failed (run 20261122-100000-abcdef)');
    expect(text).toMatch(/^\s+build\s+builder-1\s+succeeded\s+1\s+\+10ms\s+100ms/m);
    expect(text).toMatch(/^\s+plan\s+lead-1\s+succeeded\s+1\s+\+200ms\s+300ms\s+200 in \/ 40 out tokens, \$0\.0012$/m);
    expect(text).toContain('build (after): approved by alice via prompt at 2026-11-22T10:00:00.150Z');
    expect(text).toMatch(/helper\s+100 in \/ 20 out tokens, \$0\.0006/);
    const html = timelineHtml(t);
    expect(html.match(/<rect class="bar step"/g)).toHaveLength(3);
    expect(html.match(/<polygon class="gate"/g)).toHaveLength(1);
    expect(html).toContain('gate after build: approved by alice (prompt)');
  });

  it('marks a step that waits at a gate before it runs where the gate is', () => {
    const paused = runTimeline([
      ...events.slice(0, 4),
      { type: 'gate_waiting', at: at(160), step: 'drop_db', gate: 'approval_required', when: 'before' },
      { type: 'run_paused', at: at(161), waiting: ['drop_db'] },
    ]);
    expect(paused.bars.filter((b) => b.kind === 'step').map((b) => `${b.label}:${b.status}:${b.start_ms}-${b.end_ms}`)).toEqual(['build:succeeded:10-110', 'drop_db:waiting:160-160']);
    expect(paused.gates.at(-1)).toMatchObject({ step: 'drop_db', decision: 'waiting', when: 'before' });
    expect(timelineText(paused)).toContain('drop_db (before): waiting for a decision at 2026-11-22T10:00:00.160Z');
    expect(timelineHtml(paused).match(/<polygon class="gate"/g)).toHaveLength(2);
  });

  it('escapes what the journal holds in the HTML', () => {
    const hostile = runTimeline([
      { type: 'run_started', at: at(0), run_id: 'r', workflow: '<script>x</script>', inputs: {}, dir: '/p', pid: 1 },
      { type: 'step_started', at: at(1), step: 's"><img src=x>', attempt: 1 },
      { type: 'step_failed', at: at(2), step: 's"><img src=x>', error: '<b>boom</b>', attempt: 1, duration_ms: 1, final: true },
    ]);
    const html = timelineHtml(hostile);
    expect(html).not.toMatch(/<script>x|<img|<b>boom/);
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('reports an orchestration task: a bar per subtask that ran, its failures, the planner\'s usage', () => {
    const task = taskTimeline({
      id: 'task-1',
      tool: 'orchestrate',
      coordination: 'pipeline',
      status: 'partial',
      startedAt: at(0),
      endedAt: at(900),
      events: [
        { type: 'llm_decision', at: at(5), task_id: 'task-1', decision: 'plan', agent: 'planner', usage, output: {} },
        { type: 'subtask_failed', at: at(400), task_id: 'task-1', subtask: 'b', agent_id: 'worker-2', attempt: 1, error: { code: 'ORCH_TOOL_FAILED', message: 'nope' } },
      ],
      report: {
        task_id: 'task-1',
        status: 'partial',
        coordination: 'pipeline',
        subtasks_executed: 2,
        result: null,
        summary: '',
        execution_time: 0.9,
        agents_used: ['worker-1', 'worker-2'],
        subtasks: {
          a: { status: 'succeeded', agent_id: 'worker-1', attempts: 1, result: 1, agent_type: 'worker', tool: 'echo', started_at: at(10), duration_ms: 200 },
          b: { status: 'failed', agent_id: 'worker-2', attempts: 1, error: { code: 'ORCH_TOOL_FAILED', message: 'nope' }, agent_type: 'worker', tool: 'echo', started_at: at(210), duration_ms: 190 },
          c: { status: 'failed', agent_id: null, attempts: 0, error: { code: 'ORCH_DEPENDENCY_FAILED', message: 'not run: subtask b failed' }, agent_type: 'worker', tool: 'echo' },
        },
      },
    });
    expect(task.name).toBe('orchestrate (pipeline)');
    expect(task.bars.map((b) => `${b.label}:${b.status}:${b.start_ms}-${b.end_ms}`)).toEqual(['a:succeeded:10-210', 'b:failed:210-400']);
    expect(task.steps.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(task.errors).toEqual([{ at: at(400), where: 'subtask b on worker-2 (attempt 1)', message: 'nope', code: 'ORCH_TOOL_FAILED' }]);
    expect(task.by_agent).toEqual({ planner: usage });
  });
});
