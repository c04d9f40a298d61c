import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, orch, type CliResult } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

const GANTZ = `name: clear
tools:
  echo:
    parameters:
      msg: { type: string }
    script:
      command: echo
      args: ["{{msg}}"]
  shout:
    parameters:
      msg: { type: string }
    script:
      shell: 'printf "%s\\n" {{msg}}'
  fetch_it:
    parameters:
      who: { type: string }
    http:
      method: GET
      url: http://127.0.0.1:9/nothing
      headers:
        X-Who: "{{who}}"
`;
const TEAM = `team: { name: clear }
agents:
  - role: w
    tools: [echo]
workflows:
  wf:
    inputs: { msg: { type: string, default: hi } }
    steps:
      - { id: a, agent: w, action: echo, with: { msg: "\${{ inputs.msg }}" } }
`;

let cleanup = (): void => {};
afterEach(() => cleanup());

function project(): string {
  const p = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM });
  cleanup = p.cleanup;
  return p.dir;
}

const noStack = (r: CliResult) => {
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr).not.toMatch(/\n\s+at /);
};

const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('bad input is a clear error (exit 2), never a stack', () => {
  it('a NUL byte in a value given to a script', () => {
    const dir = project();
    for (const tool of ['echo', 'shout']) {
      const r = orch(['run', tool, '--input', JSON.stringify({ msg: 'a\u0000b' })], { cwd: dir });
      expect(r.code, tool).toBe(2);
      expect(r.stderr).toContain('ORCH_INPUT');
      expect(r.stderr).toContain('parameter `msg` holds a NUL byte');
      noStack(r);
    }
  });

  it('a header value outside Latin-1, refused before anything is sent', () => {
    const dir = project();
    const r = orch(['run', 'fetch_it', '--who', 'Zoë €'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ORCH_INPUT');
    expect(r.stderr).toContain('"€" (U+20AC)');
    noStack(r);
  });

  it('JSON input nested tens of thousands deep, for tools and workflows', () => {
    const dir = project();
    for (const args of [
      ['run', 'echo', '--input', `{"msg": ${deepJson(50_000)}}`],
      ['run', 'echo', '--task', `{"msg": ${deepJson(50_000)}}`],
      ['run', 'wf', '--input', `{"msg": ${deepJson(50_000)}}`],
      ['mcp', 'call', 'none', 'x', '--args', `{"a": ${deepJson(50_000)}}`],
    ]) {
      const r = orch(args, { cwd: dir });
      expect(r.code, args.join(' ').slice(0, 40)).toBe(2);
      expect(r.stderr).toMatch(/ORCH_INPUT .*nests more than 128 levels deep/);
      noStack(r);
    }
  });

  it('`--report` pointing at a folder, before the run starts', () => {
    const dir = project();
    mkdirSync(path.join(dir, 'reports'));
    const r = orch(['run', 'wf', '--report', 'reports'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--report reports is a folder');
    noStack(r);
    expect(existsSync(path.join(dir, '.orch', 'runs'))).toBe(false);
    // A file in a folder not yet there is fine: the folder is made.
    expect(orch(['run', 'wf', '--report', 'reports/ci/junit.xml'], { cwd: dir }).code).toBe(0);
    expect(readFileSync(path.join(dir, 'reports', 'ci', 'junit.xml'), 'utf8')).toContain('<testsuite');
  });
});

/** Runs the bin with its stdout's reader already gone, as in `orch --help | head -0`. */
function withClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

describe('output to a pipe closed early (EPIPE)', () => {
  it('is dropped quietly; the command ends as it would', async () => {
    const dir = project();
    expect(orch(['run', 'wf'], { cwd: dir }).code).toBe(0);
    for (const args of [['--help'], ['runs'], ['run', 'wf'], ['status']]) {
      const r = await withClosedStdout(args, dir);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
    // The run started with its output cut off still ran to the end.
    const runs = JSON.parse(orch(['runs', '--json'], { cwd: dir }).stdout) as { status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });
});

/** Speaks JSON-RPC to `orch serve` line by line, so a request may hold what no SDK client would send. */
async function rawServe(dir: string, lines: string[]): Promise<Map<number, { result?: { isError?: boolean; content: { text: string }[] } }>> {
  const child = spawn(process.execPath, [BIN, '-C', dir, 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const answers = new Map<number, { result?: { isError?: boolean; content: { text: string }[] } }>();
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ids = lines.map((l) => (JSON.parse(l.replace(/\[+\]+/g, '0')) as { id?: number }).id).filter((id) => id !== undefined);
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) {
        const message = JSON.parse(part) as { id: number; result?: { isError?: boolean; content: { text: string }[] } };
        answers.set(message.id, message);
      }
      if (ids.every((id) => answers.has(id))) resolve();
    });
    for (const line of lines) child.stdin.write(`${line}\n`);
  });
  child.stdin.end();
  await new Promise((resolve) => child.once('close', resolve));
  expect(stderr).not.toContain('internal error');
  return answers;
}

describe('orch serve', () => {
  it('answers a call whose arguments nest tens of thousands deep with an input error, and keeps serving', async () => {
    const dir = project();
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    const answers = await rawServe(dir, [
      JSON.stringify(init),
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"shout","arguments":{"msg":${deepJson(50_000)}}}}`,
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"wf","arguments":{"msg":${deepJson(50_000)}}}}`,
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"shout","arguments":{"msg":"still here"}}}',
    ]);
    for (const id of [2, 3]) {
      expect(answers.get(id)?.result?.isError, String(id)).toBe(true);
      expect(answers.get(id)?.result?.content[0]?.text).toMatch(/^ORCH_INPUT: .*nests more than 128 levels deep/);
    }
    expect(answers.get(4)?.result?.content[0]?.text).toBe('still here');
  });
});
