import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { EVERYTHING, FIXTURES, ProcessWatch } from '../unit/mcp/helpers.js';

const SECRET = 'e2e-secret-token-9137';
const node = JSON.stringify(process.execPath);
const script = (name: string) => JSON.stringify(path.join(FIXTURES, name));
const project = tempProject({
  'gantz.yaml': `name: mcp-e2e
tools: {}
mcpServers:
  fx:
    command: ${node}
    args: [${script('echo.mjs')}]
    env: { SERVICE_TOKEN: ${SECRET} }
  more:
    command: ${node}
    args: [${script('echo.mjs')}]
    env: { ORCH_FIXTURE_TOOLS: "alpha,beta" }
  every:
    command: ${node}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
`,
});
// Apart, because ending it takes the whole shutdown sequence on every command.
const stubbornProject = tempProject({
  'gantz.yaml': `name: mcp-e2e-stubborn
tools: {}
mcpServers:
  stubborn:
    command: ${node}
    args: [${script('stubborn.mjs')}]
`,
});
// Servers that never finish starting; ten minutes, so that waiting for them shows as a hang.
const hungProject = tempProject({
  'gantz.yaml': `name: mcp-e2e-hung
tools: {}
mcpServers:
  silent:
    command: ${node}
    args: [${script('silent.mjs')}]
    startup_timeout: 10m
  hung:
    command: ${node}
    args: [${script('hung.mjs')}]
    startup_timeout: 10m
`,
});
const LEAKED = 'hunter2-very-secret';
const leakyProject = tempProject({
  'gantz.yaml': `name: mcp-e2e-leaky
tools: {}
mcpServers:
  leaky:
    command: sh
    args: ["-c", "echo my token is $SVC_CRED >&2; exit 1"]
    env: { SVC_CRED: ${LEAKED} }
`,
});
afterAll(() => {
  project.cleanup();
  stubbornProject.cleanup();
  hungProject.cleanup();
  leakyProject.cleanup();
});

// Each orch run ends before it returns; nothing it started may outlive it.
const watch = new ProcessWatch();
const run = (args: string[]) => {
  const result = orch(['-C', project.dir, ...args]);
  expect(watch.leftovers()).toEqual([]);
  return result;
};

describe('orch mcp', () => {
  it('list shows every server with its status and tool count', () => {
    const json = run(['--json', 'mcp', 'list']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { name: 'fx', transport: 'stdio', status: 'running', tools: 2, error: null },
      { name: 'more', status: 'running', tools: 4 },
      { name: 'every', status: 'running', tools: 13 },
    ]);
  });

  it('tools [server] lists tools as server.tool; --json prints the MCP tool list', () => {
    const text = run(['mcp', 'tools', 'more']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['TOOL', 'more.echo', 'more.hang', 'more.alpha', 'more.beta', '']);
    const json = JSON.parse(run(['--json', 'mcp', 'tools', 'fx']).stdout);
    expect(json).toEqual([
      { server: 'fx', qualifiedName: 'fx.echo', name: 'echo', description: 'echo', inputSchema: { type: 'object' } },
      { server: 'fx', qualifiedName: 'fx.hang', name: 'hang', description: 'hang', inputSchema: { type: 'object' } },
    ]);
  });

  it('call prints the result, or the CallToolResult as JSON, and shows and audits it without secrets', () => {
    const text = run(['mcp', 'call', 'fx', 'echo', '--args', `{"message": "hello ${SECRET}"}`]);
    // The server got the argument as given; what orch prints of its answer hides the server's secret, as `orch serve` does.
    expect(text).toMatchObject({ code: 0, stdout: 'echo: hello [REDACTED]\n' });
    const json = run(['--json', 'mcp', 'call', 'every', 'get-sum', '--args', '{"a": 2, "b": 3}']);
    expect(JSON.parse(json.stdout)).toEqual({ content: [{ type: 'text', text: 'The sum of 2 and 3 is 5.' }] });
    const audit = readFileSync(path.join(project.dir, '.orch', 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"tool":"echo"');
    expect(audit).toContain('"tool":"get-sum"');
    expect(audit).not.toContain(SECRET);
  });

  it('an unknown server, tool or malformed --args is a usage error with a suggestion', () => {
    const server = run(['mcp', 'call', 'fxx', 'echo']);
    expect(server.code).toBe(2);
    expect(server.stderr).toContain('ORCH_UNKNOWN_SERVER');
    expect(server.stderr).toContain('did you mean "fx"');
    const tool = run(['mcp', 'call', 'fx', 'ecko']);
    expect(tool.code).toBe(2);
    expect(tool.stderr).toContain('did you mean "fx.echo"');
    expect(run(['mcp', 'tools', 'nope']).code).toBe(2);
    const args = run(['mcp', 'call', 'fx', 'echo', '--args', '[1]']);
    expect(args.code).toBe(2);
    expect(args.stderr).toContain('--args must be a JSON object');
  });

  const interrupt = async (dir: string, server: string, signal: NodeJS.Signals, processes: number) => {
    const child = execa(process.execPath, [BIN, '-C', dir, 'mcp', 'call', server, 'hang'], { reject: false });
    try {
      // Wait until orch and its server (and the server's children) all exist.
      for (let i = 0; i < 250 && watch.snapshot().length < processes; i++) await new Promise((r) => setTimeout(r, 20));
      expect(watch.snapshot().length).toBe(processes);
      child.kill(signal);
      return await child;
    } finally {
      child.kill('SIGKILL');
    }
  };

  it('SIGINT during a call ends the server, which ignores EOF and SIGTERM, and its child; exit 130', async () => {
    const result = await interrupt(stubbornProject.dir, 'stubborn', 'SIGINT', 3);
    expect(result.exitCode).toBe(130);
    expect(watch.leftovers()).toEqual([]);
  });

  it('SIGTERM during a call ends the server; exit 143', async () => {
    const result = await interrupt(project.dir, 'fx', 'SIGTERM', 2);
    expect(result.exitCode).toBe(143);
    expect(watch.leftovers()).toEqual([]);
  });
});

describe('orch mcp while a server is starting', () => {
  /** Runs `orch mcp call <server> foo` until orch and the server both exist, then signals it. */
  const interruptStart = async (server: string, signals: number) => {
    const child = execa(process.execPath, [BIN, '-C', hungProject.dir, 'mcp', 'call', server, 'foo'], { reject: false });
    try {
      for (let i = 0; i < 250 && watch.snapshot().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(watch.snapshot().length).toBe(2);
      for (let i = 0; i < signals; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 300)); // two presses, not one
        child.kill('SIGINT');
      }
      return await child;
    } finally {
      child.kill('SIGKILL');
    }
  };

  it('Ctrl-C during a hung start ends the server and exits 130 without waiting for startup_timeout', async () => {
    const result = await interruptStart('silent', 1);
    expect(result.exitCode).toBe(130);
    expect(watch.leftovers()).toEqual([]);
  });

  it('a second Ctrl-C kills a starting server that ignores EOF and SIGTERM', async () => {
    const result = await interruptStart('hung', 2);
    expect(result.exitCode).toBe(130);
    expect(watch.leftovers()).toEqual([]);
  });
});

describe('orch mcp and secrets', () => {
  it('a server that prints its env values does not get them shown, in JSON or on stderr', () => {
    const json = orch(['-C', leakyProject.dir, '--json', 'mcp', 'list']);
    expect(json.code).toBe(1);
    const [row] = JSON.parse(json.stdout) as { error: { code: string; message: string } }[];
    expect(row?.error).toMatchObject({ code: 'ORCH_SERVER_START', message: expect.stringContaining('my token is [REDACTED]') });
    expect(json.stdout + json.stderr).not.toContain(LEAKED);
    const text = orch(['-C', leakyProject.dir, 'mcp', 'list']);
    expect(text.stderr).toContain('my token is [REDACTED]');
    const call = orch(['-C', leakyProject.dir, 'mcp', 'call', 'leaky', 'foo']);
    expect(call.code).not.toBe(0);
    expect(call.stderr).toContain('[REDACTED]');
    for (const r of [text, call]) expect(r.stdout + r.stderr).not.toContain(LEAKED);
    expect(watch.leftovers()).toEqual([]);
  });
});
