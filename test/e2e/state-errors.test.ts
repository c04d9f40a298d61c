import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, orch, type CliResult } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

const GANTZ = `name: state
tools:
  echo:
    parameters:
      msg: { type: string }
    script:
      command: echo
      args: ["{{msg}}"]
`;
const TEAM = `team: { name: state }
agents:
  - role: w
    tools: [echo]
workflows:
  wf:
    - { id: a, agent: w, action: echo, with: { msg: hi } }
  big:
    inputs: { msg: { type: string } }
    steps:
      - { id: a, agent: w, action: echo, with: { msg: "\${{ inputs.msg }}" } }
      - { id: b, agent: w, action: echo, with: { msg: after } }
`;

let cleanup = (): void => {};
afterEach(() => cleanup());

function project(): string {
  const p = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM });
  cleanup = p.cleanup;
  return p.dir;
}

/** `ulimit -f` counts 512-byte blocks (POSIX), except in bash, which counts KiB. */
const BLOCK = spawnSync('sh', ['-c', 'echo "$BASH_VERSION"'], { encoding: 'utf8' }).stdout.trim() ? 1024 : 512;

/**
 * Runs orch with a file size limit of `kib` KiB: a write past it fails with EFBIG, as a
 * write to a full disk fails with ENOSPC. Real, and it needs no privileges (Node ignores
 * SIGXFSZ, so the write fails rather than the process dying).
 */
function orchWithSizeLimit(kib: number, args: string[], cwd: string): CliResult {
  const blocks = (kib * 1024) / BLOCK;
  const r = spawnSync('sh', ['-c', `ulimit -S -f ${blocks}; exec "$0" "$@"`, process.execPath, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    input: '',
    env: { ...process.env, FORCE_COLOR: undefined },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (r: CliResult) => {
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr).not.toMatch(/\n\s+at /);
};

function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('a state that cannot be written', () => {
  it('`orch scale` on a full disk is a clear error (exit 2) and leaves no temp file and no lock behind', () => {
    const dir = project();
    const r = orchWithSizeLimit(0, ['scale', '--agent-type', 'w', '--count', '3'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ORCH_STATE_WRITE');
    expect(r.stderr).toContain('EFBIG');
    noStack(r);
    const left = tree(path.join(dir, '.orch'));
    expect(left.filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
    // The next command finds no lock to wait for.
    const next = orch(['scale', '--agent-type', 'w', '--count', '3'], { cwd: dir });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
  });

  it('a run whose first record cannot be written leaves no run folder', () => {
    const dir = project();
    const r = orchWithSizeLimit(0, ['run', 'wf'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ORCH_STATE_WRITE');
    noStack(r);
    expect(tree(path.join(dir, '.orch', 'runs'))).toEqual([]);
  });

  it('a journal write that fails mid-run stops the run with a clear error; the run stays resumable', () => {
    const dir = project();
    // The first step's output passes 1 KiB: its event cannot be written whole.
    const r = orchWithSizeLimit(1, ['run', 'big', '--input', JSON.stringify({ msg: 'x'.repeat(700) })], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ORCH_STATE_WRITE cannot write .*journal\.jsonl/);
    noStack(r);
    const runs = orch(['runs', '--json'], { cwd: dir });
    expect(JSON.parse(runs.stdout)).toMatchObject([{ workflow: 'big', status: 'interrupted' }]);
    const [id = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
    const resumed = orch(['resume', id], { cwd: dir });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
  });
});

describe('a state folder that is not what orch expects', () => {
  it('`.orch` being a file is a clear error for every command that uses it', () => {
    const dir = project();
    writeFileSync(path.join(dir, '.orch'), '');
    for (const args of [['run', 'wf'], ['runs'], ['status'], ['scale', '--agent-type', 'w', '--count', '2'], ['logs', '20260101-120000-abcd']]) {
      const r = orch(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/\.orch is a file/);
      noStack(r);
    }
  });

  it('a journal.jsonl that is a folder is a clear error for logs and resume, and a warning in runs', () => {
    const dir = project();
    expect(orch(['run', 'wf'], { cwd: dir }).code).toBe(0);
    const [id = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
    const journal = path.join(dir, '.orch', 'runs', id, 'journal.jsonl');
    rmSync(journal);
    mkdirSync(journal);
    for (const args of [['logs', id], ['resume', id], ['approve', id]]) {
      const r = orch(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('ORCH_STATE_UNREADABLE');
      expect(r.stderr).toContain('a folder stands where a file belongs');
      noStack(r);
    }
    const runs = orch(['runs'], { cwd: dir });
    expect(runs.code).toBe(0);
    expect(runs.stderr).toContain(`warning: run ${id} cannot be read`);
  });
});

describe('the agent registry', () => {
  const cases: [string, string, RegExp][] = [
    ['garbage', 'garbage{\n', /it is not JSON/],
    ['another version', '{"version": 2, "pools": {}, "queue": []}\n', /its version is 2, not 1/],
    ['no version', '{"pools": {}}\n', /it has no `version`/],
    ['a wrong shape', '{"version": 1, "pools": [1, 2], "queue": {}}\n', /`pools`/],
    ['a wrong instance', '{"version": 1, "pools": {"w": {"type": "w", "desired": 1, "nextId": 2, "instances": [{"id": 3}]}}, "queue": []}\n', /`pools\.w\.instances\.0/],
  ];
  it.each(cases)('of %s is refused by status and scale, and left as it is', (_name, content, why) => {
    const dir = project();
    const file = path.join(dir, '.orch', 'agents', 'registry.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    for (const args of [['status'], ['scale', '--agent-type', 'w', '--count', '2'], ['run', 'wf']]) {
      const r = orch(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('ORCH_CORRUPT_STATE');
      expect(r.stderr).toMatch(why);
      noStack(r);
    }
    expect(readFileSync(file, 'utf8')).toBe(content);
  });
});

describe('run ids given to commands', () => {
  it('are checked against the run-id pattern: a path never reaches the file system', () => {
    const dir = project();
    const outside = path.join(dir, 'outside', 'evil');
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'journal.jsonl'), `${JSON.stringify({ type: 'run_started', at: 'x', run_id: 'evil', workflow: 'wf', inputs: {}, dir, pid: 1 })}\n`);
    const before = readFileSync(path.join(outside, 'journal.jsonl'), 'utf8');
    mkdirSync(path.join(dir, '.orch', 'runs'), { recursive: true });
    for (const args of [['logs', '../../outside/evil'], ['approve', '../../outside/evil'], ['reject', '../../outside/evil'], ['resume', '../../outside/evil']]) {
      const r = orch(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('ORCH_UNKNOWN_RUN');
      expect(r.stderr).toContain('is not a run id');
    }
    expect(readFileSync(path.join(outside, 'journal.jsonl'), 'utf8')).toBe(before);
    expect(tree(outside)).toEqual(['journal.jsonl']);
  });
});

/**
 * Where orch cannot run as another user (root without util-linux's setpriv, a system with
 * no uids) these checks cannot be made. Under CI that is an error, never a quiet skip:
 * `.ci/run` installs setpriv where it is missing.
 */
function skipWithoutNobody(ctx: { skip(): void }): void {
  if (process.env.CI) throw new Error('running orch as `nobody` needs setpriv (util-linux) when the tests run as root');
  ctx.skip();
}

/**
 * Runs orch as user `nobody`, for permission checks that root (which tests may run as)
 * would pass; undefined where that cannot be arranged.
 */
function asNobody(args: string[], cwd: string): CliResult | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const [file, prefix] = uid === 0 ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath]] : [process.execPath, []];
  if (uid === 0 && spawnSync('setpriv', ['--version']).status !== 0) return undefined;
  const r = spawnSync(file, [...prefix, BIN, ...args], { cwd, encoding: 'utf8', input: '', timeout: 60_000, env: { ...process.env, FORCE_COLOR: undefined } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('files orch may not read or write', () => {
  it('an unreadable config file is a clear error (exit 2)', (ctx) => {
    const dir = project();
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, 'gantz.yaml'), 0o000);
    const r = asNobody(['validate'], dir);
    if (!r) return skipWithoutNobody(ctx);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('ORCH_FILE_UNREADABLE');
    expect(r.stdout + r.stderr).toContain('permission denied');
    noStack(r);
  });

  it('a read-only `.orch` is a clear error (exit 2) for the commands that write to it', (ctx) => {
    const dir = project();
    chmodSync(dir, 0o755);
    mkdirSync(path.join(dir, '.orch'), { mode: 0o755 });
    if (process.getuid?.() !== 0) chmodSync(path.join(dir, '.orch'), 0o555);
    for (const args of [['scale', '--agent-type', 'w', '--count', '2'], ['run', 'wf']]) {
      const r = asNobody(args, dir);
      if (!r) return skipWithoutNobody(ctx);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/ORCH_STATE_(DIR|WRITE) .*permission denied \(EACCES\)/);
      noStack(r);
    }
  });
});
