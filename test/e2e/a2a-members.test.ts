import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breathe, orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

const AGENT = fileURLToPath(new URL('../fixtures/servers/a2a-agent.mjs', import.meta.url));
const KEY = 'remote-key-42';

let remote: ResultPromise<{ reject: false; stdin: 'ignore'; buffer: false }>;
let url: string;
let logDir: { dir: string; cleanup: () => void };
const log = () => path.join(logDir.dir, 'received.jsonl');
const received = (): { task: string; followUp: boolean; data: unknown; text: string }[] =>
  readFileSync(log(), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { task: string; followUp: boolean; data: unknown; text: string });

beforeAll(async () => {
  logDir = tempProject();
  remote = execa(process.execPath, [AGENT], { reject: false, stdin: 'ignore', buffer: false, env: { A2A_LOG: log(), A2A_KEY: KEY } });
  url = await new Promise<string>((resolve, reject) => {
    remote.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    void remote.then((r) => reject(new Error(`the A2A agent ended early: ${String(r.stderr)}`)));
  });
});

afterAll(async () => {
  remote.kill('SIGTERM');
  await remote;
  logDir.cleanup();
});

const team = (extra = '') => `
agents:
  - role: local
    tools: [note]
  - role: reviewer
    description: A remote reviewer
    a2a: \${REMOTE_URL}
    headers: { x-api-key: "\${REMOTE_KEY}" }${extra}
workflows:
  review:
    - { id: prepare, agent: local, action: note }
    - { id: review, agent: reviewer, action: review_changes, with: { diff: "\${{ steps.prepare.output }}" } }
  confirm:
    - { id: ask, agent: reviewer, action: confirm, with: { service: api } }
  guarded:
    - { id: deploy, agent: reviewer, action: guarded, with: { service: web } }
  broken:
    - { id: fail, agent: reviewer, action: fail }
`;
const GANTZ = `
tools:
  note:
    description: A note
    script: { shell: 'printf "one line changed"' }
`;
const env = () => ({ REMOTE_URL: url, REMOTE_KEY: KEY });

describe('a remote A2A agent as a team member (a2a: <url>)', () => {
  it('carries out a step: the action and input go as a data part, the last artifact is the output', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team() });
    try {
      const run = orch(['-C', project.dir, 'run', 'review', '--json'], { env: env() });
      await breathe();
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as { steps: { id: string; output: unknown }[] };
      expect(report.steps[1]).toMatchObject({ id: 'review', output: { action: 'review_changes', reviewed: { diff: 'one line changed' } } });
      expect(received().at(-1)).toMatchObject({ followUp: false, data: { action: 'review_changes', input: { diff: 'one line changed' } } });
      // Audited like a tool call, with the run, step and agent.
      const audit = readFileSync(path.join(project.dir, '.orch', 'audit.jsonl'), 'utf8');
      expect(audit).toMatch(/"tool":"reviewer.review_changes","kind":"a2a","run":"[^"]+","step":"review",.*"outcome":"ok"/);
    } finally {
      project.cleanup();
    }
  });

  it('turns input-required into a gate: the run pauses, `orch answer` and `orch resume` continue the same remote task', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team() });
    try {
      const paused = orch(['-C', project.dir, 'run', 'confirm'], { env: env() });
      await breathe();
      expect(paused.code).toBe(3);
      const runId = /run (\d{8}-\d{6}-[0-9a-f]+)/.exec(paused.stdout + paused.stderr)?.[1] ?? '';
      expect(runId).not.toBe('');
      expect(orch(['-C', project.dir, 'logs', runId]).stdout).toContain('Which environment?');
      await breathe();
      const [first] = received().slice(-1);
      expect(orch(['-C', project.dir, 'answer', runId, 'ask', 'staging']).code).toBe(0);
      await breathe();
      const resumed = orch(['-C', project.dir, 'resume', runId, '--json'], { env: env() });
      await breathe();
      expect(resumed.code).toBe(0);
      const report = JSON.parse(resumed.stdout) as { steps: { output: unknown }[] };
      expect(report.steps[0]?.output).toEqual({ environment: 'staging', service: 'api' });
      // The reply went to the task the step had opened; the action was not sent again.
      const last = received().at(-1);
      expect(last).toMatchObject({ task: first?.task, followUp: true, text: 'staging' });
    } finally {
      project.cleanup();
    }
  });

  it('an approval the remote agent asks for is decided with orch approve / orch reject', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team() });
    try {
      const paused = orch(['-C', project.dir, 'run', 'guarded', '--json'], { env: env() });
      await breathe();
      expect(paused.code).toBe(3);
      const runId = (JSON.parse(paused.stdout) as { run_id: string }).run_id;
      expect(orch(['-C', project.dir, 'reject', runId, 'deploy', '--reason', 'freeze']).code).toBe(0);
      await breathe();
      const resumed = orch(['-C', project.dir, 'resume', runId], { env: env() });
      await breathe();
      expect(resumed.code).toBe(1);
      expect(resumed.stdout + resumed.stderr).toContain('not approved: freeze');
      expect(received().at(-1)).toMatchObject({ followUp: true, data: { approve: false, reason: 'freeze' } });
    } finally {
      project.cleanup();
    }
  });

  it('carries out an orchestrate subtask assigned to it, and is never picked for a tool by itself', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team() });
    try {
      const task = { task: { subtasks: [{ id: 'remote', agent_type: 'reviewer', tool: 'triage', input: { ticket: 7 } }, { id: 'local', tool: 'note' }] } };
      const run = orch(['-C', project.dir, 'run', 'orchestrate', '--input', JSON.stringify(task), '--json'], { env: env() });
      await breathe();
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as { result?: unknown; subtasks?: { id: string; agent_type?: string; agent?: string; result?: unknown }[] };
      expect(JSON.stringify(report)).toContain('"reviewed":{"ticket":7}');
      expect(received().at(-1)).toMatchObject({ data: { action: 'triage', input: { ticket: 7 } } });
      // `note` went to the local agent: the remote one is sent only what is asked of it by name.
      expect(received().filter((r) => JSON.stringify(r.data).includes('note'))).toEqual([]);
    } finally {
      project.cleanup();
    }
  });

  it('a failed remote task fails the step with its reason', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team() });
    try {
      const run = orch(['-C', project.dir, 'run', 'broken'], { env: env() });
      await breathe();
      expect(run.code).toBe(1);
      expect(run.stdout + run.stderr).toContain('it broke');
    } finally {
      project.cleanup();
    }
  });

  it('orch validate --connect fetches each remote agent\'s card', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team() });
    try {
      expect(orch(['-C', project.dir, 'validate', '--connect'], { env: env() }).code).toBe(0);
      await breathe();
      const down = orch(['-C', project.dir, 'validate', '--connect', '--json'], { env: { ...env(), REMOTE_URL: 'http://127.0.0.1:1' } });
      await breathe();
      expect(down.code).toBe(2);
      expect(down.stdout).toContain('ORCH_A2A_CARD');
      expect(down.stdout).toContain('agents.1.a2a');
    } finally {
      project.cleanup();
    }
  });

  it.each([
    ['a model', '\n    model: claude-sonnet-4-5', 'is a remote A2A agent (`a2a`), so `model` does not apply'],
    ['tools', '\n    tools: [note]', 'so `tools` does not apply'],
  ])('refuses a remote agent that also declares %s', async (_name, extra, expected) => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team(extra) });
    try {
      const run = orch(['-C', project.dir, 'validate'], { env: env() });
      await breathe();
      expect(run.code).toBe(2);
      expect(run.stdout).toContain('ORCH_A2A_AGENT');
      expect(run.stdout).toContain(expected);
    } finally {
      project.cleanup();
    }
  });

  it('reports an unset variable in the URL at its line', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team() });
    try {
      const run = orch(['-C', project.dir, 'validate'], { env: { REMOTE_KEY: KEY } });
      await breathe();
      expect(run.code).toBe(2);
      expect(run.stdout).toMatch(/agent-team\.yaml:7:\d+ error ORCH_ENV_UNSET/);
    } finally {
      project.cleanup();
    }
  });
});
