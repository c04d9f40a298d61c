import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpCaller } from '../../../src/tools/context.js';
import { invokeTool } from '../../../src/tools/invoke.js';
import { ToolError } from '../../../src/tools/result.js';
import { project, tool } from './project-helpers.js';
import { survivors } from './process-helpers.js';

const require = createRequire(import.meta.url);
const client = new Client({ name: 'orch-test', version: '0.0.0' });
let transport: StdioClientTransport;

// A real server behind the McpCaller interface, as the supervisor provides it.
const mcp: McpCaller = {
  async callTool(server, name, args, { signal }) {
    expect(server).toBe('everything');
    const result = await client.callTool({ name, arguments: args }, undefined, { signal });
    return { content: Array.isArray(result.content) ? result.content : [], structuredContent: result.structuredContent, isError: result.isError === true };
  },
  call(name, args, options) {
    return this.callTool('everything', name.replace(/^everything\./, ''), args, options);
  },
};

beforeAll(async () => {
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [require.resolve('@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
    stderr: 'ignore',
  });
  await client.connect(transport);
});

afterAll(async () => {
  const pid = transport.pid;
  await client.close();
  expect(await survivors(pid === null ? [] : [pid])).toEqual([]);
});

const tools = project([
  tool('say', { kind: 'mcp', server: 'everything', tool: 'echo' }, { message: { type: 'string', required: true } }),
  tool('weather', { kind: 'mcp', server: 'everything', tool: 'get-structured-content' }, { location: { type: 'string' } }),
  tool('image', { kind: 'mcp', server: 'everything', tool: 'get-tiny-image' }),
  tool('sum', { kind: 'mcp', server: 'everything', tool: 'get-sum' }, { a: { type: 'string' }, b: { type: 'string' } }),
]);

describe('mcp tools', () => {
  it('forwards the call and returns the text', async () => {
    const result = await invokeTool(tools, 'say', { message: 'hi' }, { mcp });
    expect(result.value).toBe('Echo: hi');
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
  });

  it('prefers structured content', async () => {
    const { value } = await invokeTool(tools, 'weather', { location: 'New York' }, { mcp });
    expect(value).toMatchObject({ temperature: expect.any(Number), conditions: expect.any(String) });
  });

  it('keeps non-text content as blocks', async () => {
    const { value } = await invokeTool(tools, 'image', {}, { mcp });
    expect(value).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'image', mimeType: 'image/png' })]));
  });

  it('turns an isError result into a tool error', async () => {
    const err: unknown = await invokeTool(tools, 'sum', { a: 'x', b: 'y' }, { mcp }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect(err instanceof ToolError && err.detail.content?.length).toBeGreaterThan(0);
  });
});
