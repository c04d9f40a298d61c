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
afterAll(() => {
  project.cleanup();
  stubbornProject.cleanup();
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

  it('call prints the result, or the CallToolResult as JSON, and audits it without secrets', () => {
    const text = run(['mcp', 'call', 'fx', 'echo', '--args', `{"message": "hello ${SECRET}"}`]);
    expect(text).toMatchObject({ code: 0, stdout: `echo: hello ${SECRET}\n` });
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
    expect(server.stderr).toContain('ORCH_SERVER_UNKNOWN');
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
