import '../../../src/orchestration/register.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOrchError, OrchError } from '../../../src/errors.js';
import type { Logger } from '../../../src/tools/context.js';
import { invokeTool } from '../../../src/tools/invoke.js';
import { ToolError } from '../../../src/tools/result.js';
import { moduleHandler, project, tool } from './project-helpers.js';

const tools = project([
  tool('hello', moduleHandler('greet', 'hello'), { name: { type: 'string', required: true }, times: { type: 'integer' } }),
  tool('shout', moduleHandler('greet', 'shout'), { name: { type: 'string', required: true } }),
  tool('fail', moduleHandler('greet', 'fail')),
  tool('wait', moduleHandler('greet', 'waitForAbort')),
  tool('broken', moduleHandler('greet', 'notAFunction')),
  tool('add', moduleHandler('calc', 'add', '.mjs'), { a: { type: 'number' }, b: { type: 'number' } }),
  tool('ping', moduleHandler('legacy', 'ping', '.js')),
  tool('echo_upper', { kind: 'script', command: 'sh', args: ['-c', 'printf %s "$1" | tr a-z A-Z', 'sh', '{{text}}'] }, { text: { type: 'string' } }),
  tool('scale_agents', { kind: 'module', module: 'orchestration', fn: 'scale_agents' }, { agent_type: { type: 'string', required: true } }),
  tool('forward', { kind: 'mcp', server: 'everything', tool: 'echo' }),
]);

async function rejection(promise: Promise<unknown>): Promise<OrchError> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!isOrchError(err)) throw new Error(`expected an OrchError, got ${String(err)}`);
  return err;
}

describe('invokeTool', () => {
  it('runs TypeScript, .mjs and .js handler modules with a logger', async () => {
    const lines: string[] = [];
    const logger: Logger = { debug: () => undefined, info: (m) => lines.push(m), warn: () => undefined, error: () => undefined };
    expect(await invokeTool(tools, 'hello', { name: 'Ada', times: 2 }, { logger })).toEqual({ value: { greeting: 'Hello, Ada!Hello, Ada!' } });
    expect(lines).toEqual(['greeting Ada']);
    expect((await invokeTool(tools, 'add', { a: 2, b: 3 })).value).toBe(5);
    expect((await invokeTool(tools, 'ping', {})).value).toBe('pong');
  });

  it('lets a handler call another declared tool through ctx.callTool', async () => {
    expect((await invokeTool(tools, 'shout', { name: 'ada' })).value).toBe('ADA!');
  });

  it('validates input before any handler runs', async () => {
    const err = await rejection(invokeTool(tools, 'hello', { times: 'x' }));
    expect(err.code).toBe('ORCH_INPUT');
    expect(err.message).toContain('`name`');
    expect(err.message).toContain('`times`');
  });

  it('turns an exception in a handler into a tool error', async () => {
    const err = await rejection(invokeTool(tools, 'fail', {}));
    expect(err).toBeInstanceOf(ToolError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe('fail failed: the database is down');
  });

  it('passes the abort signal to handlers', async () => {
    const controller = new AbortController();
    const pending = invokeTool(tools, 'wait', {}, { signal: controller.signal });
    controller.abort();
    expect((await pending).value).toBe('stopped');
  });

  it('explains an export that is not a function, and an unknown tool', async () => {
    expect((await rejection(invokeTool(tools, 'broken', {}))).code).toBe('ORCH_HANDLER_EXPORT');
    const unknown = await rejection(invokeTool(tools, 'helo', {}));
    expect(unknown.code).toBe('ORCH_UNKNOWN_TOOL');
    expect(unknown.hint).toContain('`hello`');
  });

  it('validates the input, then runs the built-in orchestration handler', async () => {
    expect((await rejection(invokeTool(tools, 'scale_agents', {}))).code).toBe('ORCH_INPUT');
    // The handler keeps its pool state under the project's .orch/, so the project lives in a temp dir here.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-invoke-'));
    try {
      const scale = tool('scale_agents', { kind: 'module', module: 'orchestration', fn: 'scale_agents' }, { agent_type: { type: 'string' }, count: { type: 'number' } });
      const result = await invokeTool(project([scale], dir), 'scale_agents', { agent_type: 'worker', count: 2 });
      expect(result.value).toMatchObject({ action: 'scale_up', agent_type: 'worker', new_count: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prefers a user module named orchestration over the built-in', async () => {
    const own = project([tool('scale_agents', moduleHandler('orchestration', 'scale_agents'), { count: { type: 'number' } })]);
    expect((await invokeTool(own, 'scale_agents', { count: 3 })).value).toEqual({ scaled: 3 });
  });

  it('needs MCP servers for an mcp tool', async () => {
    expect((await rejection(invokeTool(tools, 'forward', {}))).code).toBe('ORCH_MCP_UNAVAILABLE');
  });
});
