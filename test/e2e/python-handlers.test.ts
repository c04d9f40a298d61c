import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { readPids, survivors } from '../unit/tools/process-helpers.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/python');
const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-python-e2e-'));
cpSync(FIXTURE, dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Debian's python3 where it is installed (CI installs it), else the one on PATH.
const env = existsSync('/usr/bin/python3') ? { ORCH_PYTHON: '/usr/bin/python3' } : {};

describe('orch run with a Python handler', () => {
  it('prints the result; a failure shows the exception, and its traceback only with --verbose', () => {
    const ok = orch(['run', 'hello', '--name', 'Ada', '--json'], { cwd: dir, env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ greeting: 'hello Ada', times: 1 });

    const quiet = orch(['run', 'boom'], { cwd: dir, env });
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain('error ORCH_TOOL_FAILED boom failed: ValueError: it broke');
    expect(quiet.stderr).not.toContain('Traceback');
    const verbose = orch(['run', 'boom', '--verbose'], { cwd: dir, env });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/Traceback \(most recent call last\):\n {2}File ".*greet\.py", line \d+, in boom/);
  });

  it('orch validate finds handlers/<module>.py', () => {
    const v = orch(['validate'], { cwd: dir, env });
    expect(v.stdout).toContain('valid: gantz.yaml');
    expect(v.code).toBe(0);
  });

  it('Ctrl-C ends the Python process before orch exits', async () => {
    const pidFile = path.join(dir, 'ctrl-c.pid');
    const child = execa(process.execPath, [BIN, 'run', 'wait', '--pid-file', pidFile], { cwd: dir, env, reject: false });
    while (!existsSync(pidFile) || (await readPids(pidFile)).length === 0) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await survivors(await readPids(pidFile), 0)).toEqual([]);
  });
});
