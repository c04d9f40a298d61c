import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { survivors } from '../unit/tools/process-helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/tools/run-project', import.meta.url));
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orch-run-'));
  cpSync(fixture, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The built bin, run asynchronously so a server in this process can answer it. */
function orch(args: string[], env: NodeJS.ProcessEnv = {}) {
  return execa(process.execPath, [BIN, '-C', dir, ...args], { reject: false, env: { NO_COLOR: '1', ...env }, stdin: 'ignore', stripFinalNewline: false });
}

describe('orch run <tool>', () => {
  it('turns flags into typed parameters', async () => {
    const r = await orch(['run', 'describe', '--agent-type', 'worker', '--count', '10', '--dry-run', '--tags', 'a', '--tags', 'b', '--task', '{"k": [1]}', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ agent_type: 'worker', count: 10, dry_run: true, tags: ['a', 'b'], task: { k: [1] }, mode: 'gradual' });
  });

  it('takes the input as JSON, inline or from a file, and prints data readably', async () => {
    writeFileSync(path.join(dir, 'in.json'), '{"agent_type": "reviewer", "tags": ["x"]}');
    const fromFile = await orch(['run', 'describe', '--input', '@in.json', '--count', '2']);
    expect(fromFile.exitCode).toBe(0);
    expect(fromFile.stdout).toBe('agent_type: reviewer\ntags:\n  - x\ncount: 2\nmode: gradual\n');
    const inline = await orch(['run', 'describe', '--input', '{"agent_type": "w"}', '--no-dry-run', '--json']);
    expect(JSON.parse(inline.stdout)).toEqual({ agent_type: 'w', dry_run: false, mode: 'gradual' });
  });

  it('lists the parameters with --help', async () => {
    const r = await orch(['run', 'describe', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/--agent-type <string>\s+\(string, required\)/);
    expect(r.stdout).toMatch(/--count <integer>/);
    expect(r.stdout).toMatch(/--mode <string>\s+\(string, default: "gradual"\)/);
  });

  it('exits 2 naming a missing or mistyped parameter, before running anything', async () => {
    const missing = await orch(['run', 'describe', '--count', '3']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('missing required parameter `agent_type`');
    const mistyped = await orch(['run', 'describe', '--agent-type', 'w', '--count', 'ten']);
    expect(mistyped.exitCode).toBe(2);
    expect(mistyped.stderr).toContain('parameter `count` must be integer, got the string "ten"');
    const unknown = await orch(['run', 'describe', '--agent-typ', 'w']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('--agent-type');
    const badJson = await orch(['run', 'describe', '--input', '{agent_type: w}']);
    expect(badJson.exitCode).toBe(2);
    expect(badJson.stderr).toContain('not valid JSON');
  });

  it('prints text results as they are, and never lets a value reach the shell', async () => {
    const value = '$(touch pwned) `touch pwned` "; touch pwned; "';
    const r = await orch(['run', 'say', '--text', value]);
    expect(r.stdout).toBe(`${value}\n`);
    expect(readdirSync(dir)).not.toContain('pwned');
    expect((await orch(['run', 'say', '--text', value, '--json'])).stdout).toBe(`${JSON.stringify(value)}\n`);
  });

  it('fails with exit 1 and the script\'s stderr when the tool fails', async () => {
    const r = await orch(['run', 'fail']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('fail exited with code 4: the disk is full');
    expect(r.stderr).toContain('checking the disk\nthe disk is full\n');
    expect(r.stdout).toBe('');
  });

  it('runs a built-in orchestration tool after validating its input', async () => {
    expect((await orch(['run', 'scale_agents', '--count', '3'])).exitCode).toBe(2);
    const r = await orch(['run', 'scale_agents', '--agent-type', 'worker', '--count', '10', '--json']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'scale_up', agent_type: 'worker', new_count: 10 });
  });

  it('suggests the closest tool for a typo', async () => {
    const r = await orch(['run', 'describ']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('`describe`');
  });

  it('ends the running script and exits 130 on Ctrl-C', async () => {
    const pidfile = path.join(dir, 'pid');
    const child = orch(['run', 'sleeper', '--pidfile', pidfile]);
    while (!existsSync(pidfile) || readFileSync(pidfile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
    const scriptPid = Number(readFileSync(pidfile, 'utf8'));
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(await survivors([scriptPid])).toEqual([]);
  });
});

describe('a Gantz CLI list-dialect project', () => {
  let server: http.Server;
  let api: string;
  const bodies: string[] = [];
  const ready = new Promise<void>((resolve) => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: req.url, title: `todo at ${req.url}` }));
      });
    });
    server.listen(0, '127.0.0.1', () => {
      api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    });
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('runs its script and http tools unchanged', async () => {
    await ready;
    const template = fileURLToPath(new URL('../../templates/gantz-tools', import.meta.url));
    cpSync(template, dir, { recursive: true });
    const words = await orch(['run', 'word_count', '--text', 'one two; touch pwned'], {});
    expect(words.stdout).toBe('4\n');
    const todo = await orch(['run', 'get_todo', '--id', '7', '--json'], { TODO_API: api });
    expect(todo.exitCode).toBe(0);
    expect(JSON.parse(todo.stdout)).toBe('todo at /todos/7');
    const note = await orch(['run', 'create_note', '--title', 'a "quoted" title', '--body', 'x', '--tags', 'a', '--tags', 'b"c'], { NOTES_API: api });
    expect(note.exitCode).toBe(0);
    // A body value that is one whole placeholder keeps its type: a list stays a list, a missing object is null.
    expect(JSON.parse(bodies.at(-1) ?? '')).toEqual({ title: 'a "quoted" title', body: 'x', tags: ['a', 'b"c'], source: null });
    expect(readdirSync(dir)).not.toContain('pwned');
  });
});
