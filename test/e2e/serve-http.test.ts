import http from 'node:http';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { SERVE_GANTZ } from '../fixtures/tools/serve-gantz.js';
import { survivors } from '../unit/tools/process-helpers.js';

const require = createRequire(import.meta.url);
const conformance = require.resolve('@modelcontextprotocol/conformance/dist/index.js');

let project: { dir: string; cleanup: () => void };
let orch: ResultPromise<{ reject: false; stdin: 'ignore'; buffer: false }>;
let url: URL;

beforeAll(async () => {
  project = tempProject({ 'gantz.yaml': SERVE_GANTZ });
  orch = execa(process.execPath, [BIN, '-C', project.dir, 'serve', '--http', '0'], { reject: false, stdin: 'ignore', buffer: false });
  url = await new Promise<URL>((resolve, reject) => {
    let seen = '';
    orch.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = /tools at (http:\/\/\S+)/.exec(seen);
      if (found?.[1]) resolve(new URL(found[1]));
    });
    void orch.then(() => reject(new Error(`orch serve ended early: ${seen}`)));
  });
});

afterAll(async () => {
  orch.kill('SIGTERM');
  const result = await orch;
  project.cleanup();
  expect(result.exitCode).toBe(143);
  expect(await survivors(orch.pid === undefined ? [] : [orch.pid])).toEqual([]);
});

/** A raw request, with the Host and Origin headers a browser under DNS rebinding would send. */
function request(method: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; allow?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
};

describe('orch serve --http', () => {
  it('binds loopback and serves the tools to an SDK client', async () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/mcp');
    const client = new Client({ name: 'orch-e2e', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url));
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('say');
      const result = await client.callTool({ name: 'say', arguments: { text: 'over http' } });
      expect(result.content).toEqual([{ type: 'text', text: 'over http' }]);
    } finally {
      await client.close();
    }
  });

  it('answers GET and DELETE without a session with 400, an unknown session with 404, and other paths with 404', async () => {
    expect(await request('GET', { accept: 'text/event-stream' })).toEqual({ status: 400, allow: 'POST' });
    expect((await request('DELETE', {})).status).toBe(400);
    expect((await request('POST', { 'mcp-session-id': 'no-such-session' }, initialize)).status).toBe(404);
    const other = new URL(url);
    other.pathname = '/other';
    const status = await new Promise<number>((resolve) => {
      http.get(other, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
    });
    expect(status).toBe(404);
  });

  it('rejects a foreign Host or Origin (DNS rebinding) and accepts loopback ones', async () => {
    expect((await request('POST', { host: `evil.example.com:${url.port}` }, initialize)).status).toBe(403);
    expect((await request('POST', { origin: 'http://evil.example.com' }, initialize)).status).toBe(403);
    expect((await request('POST', { origin: 'null' }, initialize)).status).toBe(403);
    expect((await request('POST', { host: `localhost:${url.port}`, origin: `http://localhost:${url.port}` }, initialize)).status).toBe(200);
  });

  it.each(['server-initialize', 'ping', 'tools-list', 'tools-call-error', 'dns-rebinding-protection'])(
    'passes the conformance scenario %s',
    async (scenario) => {
      const run = await execa(process.execPath, [conformance, 'server', '--url', url.href, '--scenario', scenario], { reject: false });
      expect(run.stdout).toMatch(/Passed: (\d+)\/\1, 0 failed/);
      expect(run.exitCode).toBe(0);
    },
  );
});
