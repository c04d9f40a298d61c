import { mkdtemp, readdir, rm, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScriptHandler } from '../../../src/config/model.js';
import { runScript } from '../../../src/tools/script.js';
import { ToolError } from '../../../src/tools/result.js';
import { readPids, survivors } from './process-helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'orch-script-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const shell = (script: string, extra: Partial<ScriptHandler> = {}): ScriptHandler => ({ kind: 'script', shell: script, args: [], ...extra });
const run = (handler: ScriptHandler, params: Record<string, unknown> = {}, environment: Record<string, string> = {}) =>
  runScript(handler, params, { tool: 't', baseDir: dir, environment });

async function failure(promise: Promise<unknown>): Promise<ToolError> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ToolError)) throw new Error(`expected a ToolError, got ${String(err)}`);
  return err;
}

const attacks = [
  '"; touch pwned; echo "',
  "'; touch pwned; echo '",
  '$(touch pwned)',
  '`touch pwned`',
  'a\ntouch pwned',
  '; touch pwned',
  '${IFS}touch${IFS}pwned',
  '\\"; touch pwned #',
  '*',
];

describe('script tools', () => {
  it('returns stdout, parsing a JSON object', async () => {
    expect(await run(shell('printf "%s\\n" "hello {{who}}"'), { who: 'you' })).toEqual({ value: 'hello you' });
    expect(await run(shell(`printf '{"ok": true, "n": {{n}}}'`), { n: 2 })).toEqual({ value: { ok: true, n: 2 } });
    // A quote inside a comment does not open a string for the placeholders after it.
    expect(await run(shell("# don't quote this\nprintf '%s' {{who}}"), { who: 'a b' })).toEqual({ value: 'a b' });
  });

  describe.each([
    ['unquoted', "printf '%s' {{v}}"],
    ['double-quoted', 'printf \'%s\' "<{{v}}>"'],
    ['single-quoted', "printf '%s' '<{{v}}>'"],
  ])('a %s placeholder in a shell string', (_where, template) => {
    it.each(attacks)('passes %j through as data', async (value) => {
      const { value: out } = await run(shell(template), { v: value });
      expect(String(out).replace(/^<|>$/g, '')).toBe(value);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('passes each argument of command + args as one argv element', async () => {
    for (const value of attacks) {
      const handler: ScriptHandler = { kind: 'script', command: 'printf', args: ['%s|', '{{v}}', 'x{{v}}'] };
      expect((await run(handler, { v: value })).value).toBe(`${value}|x${value}|`);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('honours working_dir and environment, with placeholders in environment values', async () => {
    await mkdir(path.join(dir, 'sub'));
    const result = await run(shell('printf "%s %s" "$(basename "$PWD")" "$GREETING"', { workingDir: 'sub' }), { n: 'Bo' }, { GREETING: 'hi {{n}}' });
    expect(result.value).toBe('sub hi Bo');
  });

  it('makes a non-zero exit a tool error carrying stderr', async () => {
    const err = await failure(run(shell('echo partial; echo "disk full" >&2; exit 3')));
    expect(err.code).toBe('ORCH_TOOL_FAILED');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain('exited with code 3: disk full');
    expect(err.detail).toMatchObject({ exitCode: 3, stderr: 'disk full\n', stdout: 'partial\n' });
  });

  it('reports a command that does not exist', async () => {
    const err = await failure(run({ kind: 'script', command: 'orch-no-such-command', args: [] }));
    expect(err.message).toContain('could not start');
  });

  it('kills the whole process tree on timeout', async () => {
    const pids = path.join(dir, 'pids');
    const script = `sleep 30 & echo $! >> ${pids}; sh -c 'echo $$ >> ${pids}; sleep 30'; echo $$ >> ${pids}`;
    const err = await failure(run(shell(`echo $$ >> ${pids}; ${script}`, { timeoutMs: 300 })));
    expect(err.code).toBe('ORCH_TOOL_TIMEOUT');
    const started = await readPids(pids);
    expect(started.length).toBeGreaterThanOrEqual(3);
    expect(await survivors(started)).toEqual([]);
  });

  it('force-kills a tree that ignores SIGTERM', async () => {
    const pids = path.join(dir, 'pids');
    const err = await failure(run(shell(`trap '' TERM; echo $$ >> ${pids}; sleep 30 & echo $! >> ${pids}; wait`, { timeoutMs: 200 })));
    expect(err.code).toBe('ORCH_TOOL_TIMEOUT');
    expect(await survivors(await readPids(pids))).toEqual([]);
  });

  it('stops when the caller aborts, and ends background jobs of a finished script', async () => {
    const pids = path.join(dir, 'pids');
    const controller = new AbortController();
    const pending = runScript(shell(`echo $$ >> ${pids}; sleep 30`), {}, { tool: 't', baseDir: dir, environment: {}, signal: controller.signal });
    while ((await readPids(pids).catch(() => [])).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    expect((await failure(pending)).code).toBe('ORCH_CANCELLED');

    const bg = path.join(dir, 'bg');
    expect((await run(shell(`sleep 30 >/dev/null 2>&1 & echo $! > ${bg}; echo done`))).value).toBe('done');
    expect(await survivors([...(await readPids(pids)), ...(await readPids(bg))])).toEqual([]);
  });
});
