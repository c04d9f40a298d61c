import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { connectServe } from '../helpers/serve-client.js';

const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

const TOKEN = 'sekrit-123';
const API_KEY = 'real-key-abc';
const DB_PASSWORD = 'S3cr3tPW999';
const SERVER_SECRET = 'server-only-xyz';
const ENV = { MY_API_TOKEN: TOKEN, DB_PASSWORD, NO_COLOR: '1' };

/**
 * Tools that write what they received to received.txt (the proof of what was in flight)
 * and print it (what orch may show or store only redacted).
 */
const GANTZ = `
name: leaks
tools:
  show:
    parameters:
      api_key: { type: string, required: true }
    script:
      shell: printf '%s\\n' {{api_key}} >> received.txt; echo got {{api_key}}
  echo:
    parameters:
      text: { type: string, required: true }
    script:
      shell: printf '%s\\n' {{text}} >> received.txt; echo echoed {{text}}
  token:
    script:
      shell: printf '%s' "$MY_API_TOKEN"
    environment:
      MY_API_TOKEN: \${MY_API_TOKEN}
  login:
    parameters:
      user: { type: string, required: true }
      password: { type: string, required: true }
    script:
      shell: printf '%s\\n' {{password}} >> received.txt; echo login {{user}} {{password}}
  fail:
    script:
      shell: echo "cannot connect with $MY_API_TOKEN" >&2; exit 3
    environment:
      MY_API_TOKEN: \${MY_API_TOKEN}
  get_env:
    mcp: { server: everything, tool: get-env }
  orchestrate:
    handler: orchestration.orchestrate
    parameters:
      task: { type: object, required: true }
mcpServers:
  db:
    command: node
    args: [db.js, "postgresql://readonly:\${DB_PASSWORD}@db.internal:5432/app"]
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
    env: { MY_SERVER_SECRET: ${SERVER_SECRET} }
`;

const TEAM = `
team: { name: leaks }
agents:
  - role: worker
    tools: [show, echo, token, login, fail]
workflows:
  keyed:
    inputs:
      api_key: { type: string, required: true }
    steps:
      - { id: s, agent: worker, action: show, with: { api_key: "\${{ inputs.api_key }}" } }
  chained:
    - { id: p, agent: worker, action: token }
    - { id: q, agent: worker, action: echo, with: { text: "\${{ steps.p.output }}" } }
    - { id: r, agent: worker, action: echo, if: "\${{ steps.p.output == '${TOKEN}' }}", with: { text: matched } }
  gated_input:
    inputs:
      api_key: { type: string, required: true }
      label: { type: string, default: plain }
    steps:
      - { id: first, agent: worker, action: echo, with: { text: "\${{ inputs.label }}" } }
      - { id: second, agent: worker, action: show, gate: { type: approval_required, when: before }, with: { api_key: "\${{ inputs.api_key }}" } }
  gated_output:
    - { id: p, agent: worker, action: token }
    - { id: q, agent: worker, action: echo, gate: { type: approval_required, when: before }, with: { text: "\${{ steps.p.output }}" } }
  gated_unrelated:
    - { id: p, agent: worker, action: token }
    - { id: q, agent: worker, action: echo, gate: { type: approval_required, when: before }, with: { text: "after \${{ steps.p.status }}" } }
`;

let project: { dir: string; cleanup: () => void } | undefined;
afterEach(() => project?.cleanup());

function start(): string {
  project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM });
  return project.dir;
}

const run = (dir: string, args: string[]) => orch(args, { cwd: dir, env: ENV });
const received = (dir: string): string[] => readFileSync(path.join(dir, 'received.txt'), 'utf8').trim().split('\n');

/** Every file under the state dir whose content contains text. */
function stateFilesContaining(dir: string, text: string): string[] {
  const root = path.join(dir, '.orch');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .filter((file) => readFileSync(path.join(root, file), 'utf8').includes(text));
}

const onlyRunId = (dir: string): string => readdirSync(path.join(dir, '.orch', 'runs'))[0] ?? '';

describe('redaction hides what is written or shown, never the values steps receive', () => {
  it('a tool given a secret-keyed input receives it; the journal, audit log and report hide it, and its echo', () => {
    const dir = start();
    const r = run(dir, ['--json', 'run', 'keyed', '--api-key', API_KEY]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(received(dir)).toEqual([API_KEY]);
    expect(r.stdout).not.toContain(API_KEY);
    expect(JSON.parse(r.stdout)).toMatchObject({ steps: [{ id: 's', output: 'got [REDACTED]' }] });
    expect(stateFilesContaining(dir, API_KEY)).toEqual([]);

    const planned = run(dir, ['--json', 'run', 'keyed', '--api-key', API_KEY, '--dry-run']);
    expect(planned.code).toBe(0);
    expect(JSON.parse(planned.stdout)).toMatchObject({ inputs: { api_key: '[REDACTED]' } });
  });

  it('a step given another step\'s secret output receives it, and `if:` compares the real value', () => {
    const dir = start();
    const r = run(dir, ['--json', 'run', 'chained']);
    expect(r.code).toBe(0);
    expect(received(dir)).toEqual([TOKEN, 'matched']);
    const report = JSON.parse(r.stdout) as { steps: { id: string; status: string; output: unknown }[] };
    expect(report.steps.map((s) => [s.id, s.status, s.output])).toEqual([
      ['p', 'succeeded', '[REDACTED]'],
      ['q', 'succeeded', 'echoed [REDACTED]'],
      ['r', 'succeeded', 'echoed matched'],
    ]);
    expect(r.stdout).not.toContain(TOKEN);
    expect(stateFilesContaining(dir, TOKEN)).toEqual([]);
    expect(run(dir, ['logs', onlyRunId(dir)]).stdout).not.toContain(TOKEN);
  });

  it('a tool run directly: its input reaches it, its output and its errors are shown redacted', () => {
    const dir = start();
    const shown = run(dir, ['run', 'show', '--api-key', API_KEY]);
    expect(shown.code).toBe(0);
    expect(received(dir)).toEqual([API_KEY]);
    expect(shown.stdout).toBe('got [REDACTED]\n');

    const failed = run(dir, ['run', 'fail']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('cannot connect with [REDACTED]');
    expect(failed.stderr + failed.stdout).not.toContain(TOKEN);

    const json = run(dir, ['--json', 'run', 'fail']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'ORCH_TOOL_FAILED', message: expect.stringContaining('[REDACTED]') } });
    expect(json.stdout + json.stderr).not.toContain(TOKEN);
  });
});

describe('resuming a run whose journal kept a placeholder for a secret', () => {
  it('refuses when a step still to run reads a withheld input, and takes it again with --input', () => {
    const dir = start();
    expect(run(dir, ['run', 'gated_input', '--api-key', API_KEY]).code).toBe(3);
    const runId = onlyRunId(dir);
    expect(run(dir, ['approve', runId]).code).toBe(0);

    const refused = run(dir, ['resume', runId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ORCH_SECRET_WITHHELD');
    expect(refused.stderr).toContain('`second`');
    expect(refused.stderr).toContain('inputs.api_key');
    expect(refused.stderr).toContain(`orch resume ${runId} --input`);
    expect(received(dir)).toEqual(['plain']);

    const json = run(dir, ['--json', 'resume', runId]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'ORCH_SECRET_WITHHELD' } });

    // Only inputs the journal withheld may be given again; the others are the run's.
    const changed = run(dir, ['resume', runId, '--input', JSON.stringify({ api_key: API_KEY, label: 'other' })]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('`label`');

    const resumed = run(dir, ['--json', 'resume', runId, '--input', JSON.stringify({ api_key: API_KEY })]);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(received(dir)).toEqual(['plain', API_KEY]);
    expect(resumed.stdout).not.toContain(API_KEY);
    expect(stateFilesContaining(dir, API_KEY)).toEqual([]);
  });

  it('refuses when a step still to run reads a withheld step output, naming both steps', () => {
    const dir = start();
    expect(run(dir, ['run', 'gated_output']).code).toBe(3);
    const runId = onlyRunId(dir);
    expect(run(dir, ['approve', runId]).code).toBe(0);
    const refused = run(dir, ['resume', runId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ORCH_SECRET_WITHHELD');
    expect(refused.stderr).toMatch(/`q`.*steps\.p\.output/);
    expect(refused.stderr).toContain('orch run gated_output');
    expect(() => received(dir)).toThrow();
  });

  it('journals the reason given to `orch reject` redacted', () => {
    const dir = start();
    expect(run(dir, ['run', 'gated_unrelated']).code).toBe(3);
    const runId = onlyRunId(dir);
    expect(run(dir, ['reject', runId, '--reason', `the token ${TOKEN} looked wrong`]).code).toBe(0);
    expect(run(dir, ['logs', runId]).stdout).toContain('the token [REDACTED] looked wrong');
    expect(stateFilesContaining(dir, TOKEN)).toEqual([]);
  });

  it('resumes as before when what the remaining steps read was stored whole', () => {
    const dir = start();
    expect(run(dir, ['run', 'gated_unrelated']).code).toBe(3);
    const runId = onlyRunId(dir);
    expect(run(dir, ['approve', runId]).code).toBe(0);
    const resumed = run(dir, ['resume', runId]);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(received(dir)).toEqual(['after succeeded']);
  });
});

describe('what orch shows of a project', () => {
  it('`orch status` hides the password of a server URL, with or without --json', () => {
    const dir = start();
    for (const args of [['status'], ['--json', 'status']]) {
      const r = run(dir, args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('postgresql://readonly:[REDACTED]@db.internal:5432/app');
      expect(r.stdout).not.toContain(DB_PASSWORD);
    }
  });

  it('orchestrate passes password and api_key inputs on, and stores and prints them redacted', () => {
    const dir = start();
    const task = {
      subtasks: [
        { id: 'a', tool: 'login', input: { user: 'bob', password: 'hunter2-pw' } },
        { id: 'b', tool: 'show', input: { api_key: API_KEY } },
      ],
    };
    const r = run(dir, ['run', 'orchestrate', '--task', JSON.stringify(task)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(received(dir).sort()).toEqual(['hunter2-pw', API_KEY].sort());
    for (const secret of ['hunter2-pw', API_KEY]) {
      expect(r.stdout).not.toContain(secret);
      expect(stateFilesContaining(dir, secret)).toEqual([]);
    }
    expect(stateFilesContaining(dir, '[REDACTED]')).toEqual(expect.arrayContaining([expect.stringMatching(/plan\.json$/), expect.stringMatching(/report\.json$/)]));
  });
});

describe('orch serve', () => {
  const text = (result: Awaited<ReturnType<Client['callTool']>>): string =>
    (Array.isArray(result.content) ? result.content : []).map((b: { type: string; text?: string }) => b.text ?? '').join('');

  it('redacts successful results as it does failed ones: a forwarded get-env, a tool printing a secret', async () => {
    const dir = start();
    const { client } = await connectServe(dir, { MY_API_TOKEN: TOKEN, DB_PASSWORD });
    try {
      const env = await client.callTool({ name: 'get_env', arguments: {} });
      expect(env.isError).toBeFalsy();
      expect(text(env)).toContain('"MY_SERVER_SECRET": "[REDACTED]"');
      expect(JSON.stringify(env)).not.toContain(SERVER_SECRET);

      const token = await client.callTool({ name: 'token', arguments: {} });
      expect(text(token)).toBe('[REDACTED]');

      const shown = await client.callTool({ name: 'show', arguments: { api_key: API_KEY } });
      expect(text(shown)).toBe('got [REDACTED]');
      expect(received(dir)).toEqual([API_KEY]);

      const workflow = await client.callTool({ name: 'chained', arguments: {} });
      expect(JSON.stringify(workflow)).not.toContain(TOKEN);
    } finally {
      await client.close();
    }
  });
});
