import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectProject, loadProject } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { validateProject } from '../../../src/mcp/validate.js';
import { tempProject } from '../../helpers/project.js';

/** The files MCP clients write, as users already have them. */
describe("MCP clients' files", () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());
  const project = (files: Record<string, string>) => {
    const p = tempProject(files);
    cleanup = p.cleanup;
    return p.dir;
  };

  it('a folder with only .mcp.json is a project', async () => {
    const dir = project({ '.mcp.json': '{"mcpServers": {"fs": {"command": "node", "args": ["server.js"]}}}' });
    const { project: p } = await loadProject({ dir });
    expect([...p.servers.keys()]).toEqual(['fs']);
    expect(p.files).toEqual({ mcp: path.join(dir, '.mcp.json') });
  });

  it('--config names an MCP client file, read once, as JSONC', async () => {
    const dir = project({ '.mcp.json': '{\n  // mine\n  "mcpServers": {"fs": {"command": "node"},},\n}\n' });
    const { project: p, issues } = await loadProject({ dir, config: '.mcp.json' });
    expect(issues).toEqual([]);
    expect([...p.servers.keys()]).toEqual(['fs']);
  });

  it("--config reads VS Code's .vscode/mcp.json, its `servers` shape and `inputs`", async () => {
    const dir = project({});
    mkdirSync(path.join(dir, '.vscode'));
    writeFileSync(
      path.join(dir, '.vscode', 'mcp.json'),
      '{"inputs": [], "servers": {"mem": {"type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}, "remote": {"type": "http", "url": "http://127.0.0.1:9/mcp"}}}',
    );
    const { project: p } = await loadProject({ dir, config: '.vscode/mcp.json' });
    expect([...p.servers.values()].map((s) => [s.name, s.transport])).toEqual([
      ['mem', 'stdio'],
      ['remote', 'http'],
    ]);
  });

  it('accepts the `type` spellings clients use', async () => {
    const url = 'http://127.0.0.1:9/x';
    const servers = Object.fromEntries(
      ['stdio', 'http', 'streamable-http', 'streamableHttp', 'sse'].map((type, i) => [`s${i}`, type === 'stdio' ? { type, command: 'node' } : { type, url }]),
    );
    const dir = project({ '.mcp.json': JSON.stringify({ mcpServers: servers }) });
    const { project: p } = await loadProject({ dir });
    expect([...p.servers.values()].map((s) => s.transport)).toEqual(['stdio', 'http', 'http', 'http', 'sse']);
  });

  it('`disabled: true` sets the server apart: nothing starts it', async () => {
    const dir = project({ '.mcp.json': '{"mcpServers": {"on": {"command": "node"}, "off": {"command": "node", "disabled": true}}}' });
    const { project: p } = await loadProject({ dir });
    expect([...p.servers.keys()]).toEqual(['on']);
    expect([...(p.disabledServers?.keys() ?? [])]).toEqual(['off']);
  });

  it("one server's errors hold up only what needs that server; validate reports them", async () => {
    const dir = project({
      'gantz.yaml': 'tools:\n  hi:\n    script: { command: echo, args: [hi] }\n',
      '.mcp.json': '{"mcpServers": {\n  "gh": {"command": "gh-mcp", "env": {"TOKEN": "${ORCH_TEST_UNSET_GH}"}},\n  "bad": {"command": "node", "args": "x"},\n  "ok": {"command": "node"}\n}}',
    });
    const { project: p } = await loadProject({ dir, env: {} });
    expect(p.tools.has('hi')).toBe(true);
    expect(p.servers.get('ok')?.problems).toBeUndefined();
    expect(p.servers.get('gh')?.problems?.map((i) => [i.code, i.line])).toEqual([['ORCH_ENV_UNSET', 2]]);
    expect(p.servers.get('bad')?.problems?.map((i) => [i.code, i.line])).toEqual([['ORCH_SCHEMA', 3]]);

    const validation = await validateProject({ dir, env: {} });
    expect(validation.ok).toBe(false);
    expect(validation.issues.map((i) => i.code).sort()).toEqual(['ORCH_ENV_UNSET', 'ORCH_SCHEMA']);

    // Starting the broken server is a config error naming the file and line; nothing is spawned.
    const supervisor = new Supervisor(p.servers.values(), { stateDir: path.join(dir, '.orch') });
    try {
      const [outcome] = await supervisor.start(['gh']);
      expect(outcome?.ok).toBe(false);
      const error = outcome && !outcome.ok ? outcome.error : undefined;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error?.exitCode).toBe(2);
      expect((error as ConfigError).issues[0]).toMatchObject({ file: '.mcp.json', line: 2, code: 'ORCH_ENV_UNSET' });
      expect(supervisor.server('gh').pid).toBeUndefined();
    } finally {
      await supervisor.shutdown();
    }
  });

  it('a typo of a top-level key is a warning with a suggestion, not a silent drop', async () => {
    const dir = project({ '.mcp.json': '{"mcpservers": {"s": {"command": "node"}}}' });
    const { issues } = await inspectProject({ dir });
    expect(issues).toMatchObject([{ severity: 'warning', code: 'ORCH_UNKNOWN_KEY', hint: 'did you mean `mcpServers`?' }]);
  });
});
