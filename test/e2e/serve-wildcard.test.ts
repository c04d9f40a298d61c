import http from 'node:http';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { SERVE_GANTZ } from '../fixtures/tools/serve-gantz.js';
import { survivors } from '../unit/tools/process-helpers.js';

let project: { dir: string; cleanup: () => void };
let orch: ReturnType<typeof execa>;
let port = 0;

beforeAll(async () => {
  project = tempProject({ 'gantz.yaml': SERVE_GANTZ });
  orch = execa(process.execPath, [BIN, '-C', project.dir, 'serve', '--http', '0', '--host', '0.0.0.0'], { reject: false, stdin: 'ignore', buffer: false });
  port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    orch.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = /:(\d+)\/mcp/.exec(seen);
      if (found?.[1]) resolve(Number(found[1]));
    });
    void orch.then(() => reject(new Error(`orch serve ended early: ${seen}`)));
  });
});

afterAll(async () => {
  orch.kill('SIGTERM');
  await orch;
  project.cleanup();
  expect(await survivors(orch.pid === undefined ? [] : [orch.pid])).toEqual([]);
});

function post(headers: Record<string, string>): Promise<number> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('orch serve --http on a wildcard address', () => {
  it("accepts any Host, but refuses a browser's Origin from another site", async () => {
    expect(await post({ host: `my-box.lan:${port}` })).toBe(200);
    expect(await post({ host: `my-box.lan:${port}`, origin: `http://my-box.lan:${port}` })).toBe(200);
    expect(await post({ host: `my-box.lan:${port}`, origin: 'http://evil.example.com' })).toBe(403);
  });
});
