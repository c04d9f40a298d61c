import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { connectServe } from '../helpers/serve-client.js';
import { FIXTURES } from '../unit/mcp/helpers.js';

const node = JSON.stringify(process.execPath);
const echo = JSON.stringify(path.join(FIXTURES, 'echo.mjs'));
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));
const project = (files: Record<string, string>): string => {
  const p = tempProject(files);
  cleanups.push(p.cleanup);
  return p.dir;
};

describe('a folder with only a .mcp.json, as Claude Code writes it', () => {
  const dir = project({
    '.mcp.json': `{
  // the servers of this folder
  "mcpServers": {
    "fx": { "command": ${node}, "args": [${echo}], },
  },
}
`,
  });

  it('orch mcp list, tools and call work', () => {
    const list = orch(['mcp', 'list'], { cwd: dir });
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/fx\s+stdio\s+running\s+2/);
    const tools = orch(['mcp', 'tools'], { cwd: dir });
    expect(tools.code).toBe(0);
    expect(tools.stdout).toContain('fx.echo');
    const call = orch(['mcp', 'call', 'fx', 'echo', '--args', '{"message": "hi"}'], { cwd: dir });
    expect(call.code).toBe(0);
    expect(call.stdout).toBe('echo: hi\n');
  });

  it('orch validate says valid, with or without --config .mcp.json', () => {
    for (const args of [['validate'], ['--config', '.mcp.json', 'validate']]) {
      const r = orch(args, { cwd: dir });
      expect(r.stdout).toContain('valid: .mcp.json');
      expect(r.stdout).toContain('1 MCP server');
      expect(r.code).toBe(0);
    }
  });

  it('orch serve starts and answers', async () => {
    const { client } = await connectServe(dir);
    try {
      expect(Array.isArray((await client.listTools()).tools)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('servers other clients configure', () => {
  it('`disabled: true` is honoured: listed as disabled, never started, refused by name', () => {
    const marker = 'started.txt';
    const dir = project({
      '.mcp.json': JSON.stringify({
        mcpServers: {
          fx: { command: process.execPath, args: [path.join(FIXTURES, 'echo.mjs')] },
          off: { command: process.execPath, args: ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`], disabled: true },
        },
      }),
    });
    const list = orch(['mcp', 'list'], { cwd: dir });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/off\s+-\s+disabled/);
    expect(orch(['mcp', 'tools'], { cwd: dir }).code).toBe(0);
    const call = orch(['mcp', 'call', 'off', 'x'], { cwd: dir });
    expect(call.code).toBe(2);
    expect(call.stderr).toContain('ORCH_SERVER_DISABLED');
    expect(orch(['validate'], { cwd: dir }).stdout).toContain('1 MCP server (and 1 disabled)');
    expect(existsSync(path.join(dir, marker))).toBe(false);
  });

  it('an unset variable or a bad entry fails that server alone, when it is needed', () => {
    const dir = project({
      'gantz.yaml': 'tools:\n  hi:\n    script: { command: echo, args: [hello] }\n',
      '.mcp.json': `{"mcpServers": {
  "gh": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "\${ORCH_E2E_UNSET_TOKEN}"}},
  "odd": {"type": "websocket", "url": "ws://127.0.0.1:1"},
  "fx": {"command": ${node}, "args": [${echo}]}
}}`,
    });
    const env = { ORCH_E2E_UNSET_TOKEN: undefined };
    // Commands that never start them are not held up.
    expect(orch(['status'], { cwd: dir, env }).code).toBe(0);
    const run = orch(['run', 'hi'], { cwd: dir, env });
    expect(run.stdout).toBe('hello\n');
    expect(run.code).toBe(0);
    expect(orch(['mcp', 'call', 'fx', 'echo', '--args', '{"message": "ok"}'], { cwd: dir, env }).stdout).toBe('echo: ok\n');
    // Needing one is a config error at its file:line.
    const call = orch(['mcp', 'call', 'gh', 'list'], { cwd: dir, env });
    expect(call.code).toBe(2);
    expect(call.stderr).toContain('.mcp.json:2:55 error ORCH_ENV_UNSET environment variable `ORCH_E2E_UNSET_TOKEN` is not set');
    const list = orch(['mcp', 'list'], { cwd: dir, env });
    expect(list.code).toBe(2);
    expect(list.stdout).toMatch(/fx\s+stdio\s+running/);
    expect(list.stdout).toMatch(/gh\s+stdio\s+invalid/);
    // validate checks them all.
    const v = orch(['validate'], { cwd: dir, env });
    expect(v.code).toBe(2);
    expect(v.stdout).toContain('.mcp.json:2:55 error ORCH_ENV_UNSET');
    expect(v.stdout).toMatch(/\.mcp\.json:3:19 error ORCH_SCHEMA mcpServers\.odd\.type must be one of: stdio, http, streamable-http, streamableHttp, sse/);
  });
});

describe('the legacy HTTP+SSE transport', () => {
  let server: ResultPromise<{ stdin: 'pipe'; stdout: 'pipe'; reject: false }> | undefined;
  let port = 0;
  beforeAll(async () => {
    server = execa(process.execPath, [path.join(FIXTURES, 'sse.mjs')], {
      stdin: 'pipe',
      stdout: 'pipe',
      reject: false,
      env: { ORCH_FIXTURE_BEARER: 'sse-e2e-token' },
    });
    port = await new Promise<number>((resolve, reject) => {
      server?.stdout.on('data', (chunk: Buffer) => {
        const found = /listening (\d+)/.exec(String(chunk));
        if (found) resolve(Number(found[1]));
      });
      void server?.then((r) => reject(new Error(`the SSE fixture exited: ${String(r.stderr)}`)));
    });
  });
  afterAll(async () => {
    server?.stdin.end();
    await server;
  });

  it('`type: sse` servers are listed and called, with their headers', () => {
    const dir = project({
      '.mcp.json': JSON.stringify({
        mcpServers: {
          legacy: { type: 'sse', url: `http://127.0.0.1:${port}/sse`, headers: { Authorization: 'Bearer ${env:SSE_TOKEN}' } },
        },
      }),
    });
    const env = { SSE_TOKEN: 'sse-e2e-token' };
    const list = orch(['mcp', 'list'], { cwd: dir, env });
    expect(list.stdout).toMatch(/legacy\s+sse\s+running\s+2/);
    expect(list.code).toBe(0);
    const call = orch(['mcp', 'call', 'legacy', 'echo', '--args', '{"message": "over sse"}'], { cwd: dir, env });
    expect(call.stdout).toBe('echo: over sse\n');
    expect(call.code).toBe(0);
    // Without the token the server refuses the stream: a start failure of that server.
    const refused = orch(['mcp', 'call', 'legacy', 'echo', '--args', '{"message": "x"}'], { cwd: dir, env: { SSE_TOKEN: 'wrong' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ORCH_SERVER_START');
  });
});
