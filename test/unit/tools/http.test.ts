import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpHandler } from '../../../src/config/model.js';
import { runHttp } from '../../../src/tools/http.js';
import { ToolError } from '../../../src/tools/result.js';

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url?.startsWith('/hang')) return; // never answers
      if (req.url?.startsWith('/missing')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such user"}');
        return;
      }
      if (req.url?.startsWith('/text')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('plain words\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ data: { items: [{ name: 'first' }] }, echo: { url: req.url, body } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const handler = (h: Partial<HttpHandler>): HttpHandler => ({ kind: 'http', method: 'GET', url: `${base}/`, headers: {}, ...h });
const last = (): Seen => seen[seen.length - 1] ?? { headers: {}, body: '' };

async function failure(promise: Promise<unknown>): Promise<ToolError> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ToolError)) throw new Error(`expected a ToolError, got ${String(err)}`);
  return err;
}

describe('http tools', () => {
  it('URL-encodes values and substitutes headers', async () => {
    const h = handler({ url: `${base}/users/{{id}}?q={{q}}`, headers: { 'X-User': '{{ id }}', Authorization: 'Bearer {{token}}' } });
    const result = await runHttp(h, { id: '../admin', q: 'a b&c=d', token: 't0k' }, { tool: 't' });
    expect(last().url).toBe('/users/..%2Fadmin?q=a%20b%26c%3Dd');
    expect(last().headers['x-user']).toBe('../admin');
    expect(last().headers.authorization).toBe('Bearer t0k');
    expect(result.value).toMatchObject({ data: { items: [{ name: 'first' }] } });
  });

  it('a value of `.` or `..` cannot climb the URL path', async () => {
    const before = seen.length;
    for (const id of ['..', '.']) {
      const err: unknown = await runHttp(handler({ url: `${base}/api/users/{{id}}/profile` }), { id }, { tool: 't' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ORCH_INPUT' });
    }
    expect(seen.length).toBe(before);
    // In the query it is only data.
    await runHttp(handler({ url: `${base}/api/find?dir={{id}}` }), { id: '..' }, { tool: 't' });
    expect(last().url).toBe('/api/find?dir=..');
  });

  it('refuses a header value with a line break as bad input (exit 2), sending nothing', async () => {
    const before = seen.length;
    const err: unknown = await runHttp(handler({ headers: { 'X-Val': '{{v}}' } }), { v: 'a\r\nX-Injected: 1' }, { tool: 't' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ORCH_INPUT', exitCode: 2 });
    expect(seen.length).toBe(before);
  });

  it('refuses a header value outside Latin-1 as bad input (exit 2), saying which character', async () => {
    const before = seen.length;
    const err: unknown = await runHttp(handler({ headers: { 'X-Val': 'v={{v}}' } }), { v: 'héllo€' }, { tool: 't' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ORCH_INPUT', exitCode: 2 });
    expect(String(err)).toContain('"€" (U+20AC) at character 8');
    expect(seen.length).toBe(before);
    // Latin-1 itself is fine.
    await runHttp(handler({ headers: { 'X-Val': '{{v}}' } }), { v: 'héllo' }, { tool: 't' });
    expect(seen.length).toBe(before + 1);
  });

  it('form-encodes values in a form body, so `&` and `=` stay data', async () => {
    const h = handler({ method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name={{v}}&role=user' });
    await runHttp(h, { v: 'x&role=admin' }, { tool: 't' });
    expect([...new URLSearchParams(last().body)]).toEqual([
      ['name', 'x&role=admin'],
      ['role', 'user'],
    ]);
  });

  it('sends a YAML body as JSON with typed values', async () => {
    await runHttp(handler({ method: 'post', body: { name: '{{name}}', count: '{{count}}', note: 'for {{name}}' } }), { name: 'x"y', count: 4 }, { tool: 't' });
    expect(last().method).toBe('POST');
    expect(last().headers['content-type']).toBe('application/json');
    expect(JSON.parse(last().body)).toEqual({ name: 'x"y', count: 4, note: 'for x"y' });
  });

  it('JSON-escapes values in a JSON text body so they cannot add keys', async () => {
    const evil = '", "admin": true, "x": "';
    await runHttp(handler({ method: 'POST', body: '{"name": "{{name}}"}' }), { name: evil }, { tool: 't' });
    expect(JSON.parse(last().body)).toEqual({ name: evil });
  });

  it('narrows the response with extract_json', async () => {
    const result = await runHttp(handler({ extractJson: 'data.items[0].name' }), {}, { tool: 't' });
    expect(result.value).toBe('first');
    const err = await failure(runHttp(handler({ extractJson: 'data.nothing' }), {}, { tool: 't' }));
    expect(err.message).toContain('data.nothing');
  });

  it('returns text bodies as text', async () => {
    expect((await runHttp(handler({ url: `${base}/text` }), {}, { tool: 't' })).value).toBe('plain words');
  });

  it('makes an error status a tool error with the status and body', async () => {
    const err = await failure(runHttp(handler({ url: `${base}/missing` }), {}, { tool: 'get_user' }));
    expect(err.code).toBe('ORCH_TOOL_FAILED');
    expect(err.message).toContain('404');
    expect(err.detail).toEqual({ status: 404, body: { error: 'no such user' } });
  });

  it('times out, and can be cancelled', async () => {
    const err = await failure(runHttp(handler({ url: `${base}/hang`, timeoutMs: 200 }), {}, { tool: 't' }));
    expect(err.code).toBe('ORCH_TOOL_TIMEOUT');
    const controller = new AbortController();
    const pending = runHttp(handler({ url: `${base}/hang` }), {}, { tool: 't', signal: controller.signal });
    controller.abort();
    expect((await failure(pending)).code).toBe('ORCH_CANCELLED');
  });

  it('reports a server that is not there', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(runHttp(handler({ url: `http://127.0.0.1:${port}/` }), {}, { tool: 't' }));
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});
