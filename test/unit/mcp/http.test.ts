import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendants } from '../../../src/process/identity.js';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { FAST_POLICY, tempDir } from './helpers.js';

const state = tempDir();
const TOKEN = 'Bearer http-secret-1234';
let http: Server;
let url: string;

beforeAll(async () => {
  // A stateless Streamable HTTP server: one MCP server and transport per request.
  http = createServer((req, res) => {
    if (req.headers.authorization !== TOKEN) {
      res.writeHead(401).end();
      return;
    }
    const mcp = new McpServer({ name: 'http-fixture', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'says who asked' }, async () => ({
      content: [{ type: 'text', text: 'authorised caller' }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close());
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`; // listen() on a port gives an AddressInfo
});

afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  state.cleanup();
  // An HTTP server entry must not start any process.
  expect(descendants(process.pid)).toEqual([]);
});

describe('Streamable HTTP servers', () => {
  const def = (headers: Record<string, string>) => ({
    name: 'remote',
    transport: 'http' as const,
    url,
    args: [],
    env: {},
    headers,
    startupTimeoutMs: 5000,
    origin: { file: '/p/.mcp.json', path: ['mcpServers', 'remote'] },
  });

  it('connects with the declared headers and calls tools', async () => {
    const supervisor = new Supervisor([def({ Authorization: TOKEN })], { stateDir: state.dir, policy: FAST_POLICY });
    try {
      const result = await supervisor.call('remote.whoami', {});
      expect(result.content).toEqual([{ type: 'text', text: 'authorised caller' }]);
    } finally {
      await supervisor.shutdown();
    }
  });

  it('reports a refused connection as a start error naming the server', async () => {
    const supervisor = new Supervisor([def({ Authorization: 'Bearer wrong' })], { stateDir: state.dir, policy: FAST_POLICY });
    try {
      const [outcome] = await supervisor.start();
      expect(outcome?.ok).toBe(false);
      expect(outcome && !outcome.ok && outcome.error.message).toMatch(/MCP server "remote" failed to start/);
    } finally {
      await supervisor.shutdown();
    }
  });
});
