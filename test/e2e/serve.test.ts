import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempProject } from '../helpers/project.js';
import { survivors } from '../unit/tools/process-helpers.js';
import { SERVE_GANTZ } from '../fixtures/tools/serve-gantz.js';
import { connectServe } from '../helpers/serve-client.js';

let project: { dir: string; cleanup: () => void };
beforeEach(() => {
  project = tempProject({ 'gantz.yaml': SERVE_GANTZ });
});
afterEach(() => project.cleanup());

const text = (result: Awaited<ReturnType<Client['callTool']>>): string =>
  (Array.isArray(result.content) ? result.content : []).map((b: { type: string; text?: string }) => b.text ?? '').join('');

const connectStdio = () => connectServe(project.dir);

describe('orch serve over stdio', () => {
  it('lists the declared tools with input schemas from their parameters', async () => {
    const { client, transport } = await connectStdio();
    const pid = transport.pid;
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'serve-fixture', version: '2.1.0' });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['say', 'test_error_handling', 'sleeper', 'pid', 'crash']);
      expect(tools[0]?.inputSchema).toMatchObject({
        type: 'object',
        properties: { text: { type: 'string', description: 'What to print' }, times: { type: 'integer', default: 1 } },
        required: ['text'],
      });
      // `read_only: true` is MCP's readOnlyHint; a tool without annotations lists none.
      expect(tools[0]?.annotations).toEqual({ readOnlyHint: true });
      expect(tools[1]?.annotations).toBeUndefined();
    } finally {
      await client.close();
    }
    expect(await survivors(pid === null ? [] : [pid])).toEqual([]);
  });

  it('calls tools, passing values as data and failures as isError results', async () => {
    const { client } = await connectStdio();
    try {
      const value = '$(touch pwned) `touch pwned` "; touch pwned';
      expect(text(await client.callTool({ name: 'say', arguments: { text: value, times: 2 } }))).toBe(`${value}\n${value}`);
      expect(existsSync(path.join(project.dir, 'pwned'))).toBe(false);

      const failed = await client.callTool({ name: 'test_error_handling', arguments: {} });
      expect(failed.isError).toBe(true);
      expect(text(failed)).toContain('something broke');

      const invalid = await client.callTool({ name: 'say', arguments: { times: 'x' } });
      expect(invalid.isError).toBe(true);
      expect(text(invalid)).toContain('missing required parameter `text`');
      expect(text(invalid)).toContain('parameter `times` must be integer');

      await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/Unknown tool: nope/);
    } finally {
      await client.close();
    }
  });

  it('keeps forwarded tools working after their server crashes', async () => {
    const { client } = await connectStdio();
    try {
      const before = text(await client.callTool({ name: 'pid', arguments: {} }));
      expect(before).toMatch(/^pid \d+$/);
      const crashed = await client.callTool({ name: 'crash', arguments: {} });
      expect(crashed.isError).toBe(true);
      const after = text(await client.callTool({ name: 'pid', arguments: {} }));
      expect(after).toMatch(/^pid \d+$/);
      expect(after).not.toBe(before);
      const serverPid = Number(after.split(' ')[1]);
      await client.close();
      expect(await survivors([serverPid])).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('kills a running script when the client cancels the call', async () => {
    const { client } = await connectStdio();
    const pidfile = path.join(project.dir, 'pid');
    const controller = new AbortController();
    try {
      const call = client.callTool({ name: 'sleeper', arguments: { pidfile } }, undefined, { signal: controller.signal });
      while (!existsSync(pidfile) || readFileSync(pidfile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      await expect(call).rejects.toThrow();
      expect(await survivors([Number(readFileSync(pidfile, 'utf8'))])).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
