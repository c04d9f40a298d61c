import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleHandler } from '../config/model.js';
import { OrchError, isOrchError } from '../errors.js';
import { builtinHandler } from './builtin.js';
import type { HandlerContext, HandlerFn } from './handler.js';
import { runPython } from './python.js';
import { ToolError, type ToolResult } from './result.js';

// The handler contract lives in ./handler.ts, which builtin.ts can import without a cycle.
export type { HandlerContext, HandlerFn } from './handler.js';

const loaded = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Loads a handler module once per process. TypeScript goes through tsx, so `.ts`
 * handlers run without a build step; `.js`/`.mjs` use Node's own loader.
 */
async function loadModule(file: string): Promise<Record<string, unknown>> {
  let pending = loaded.get(file);
  if (!pending) {
    const url = pathToFileURL(file).href;
    pending = file.endsWith('.ts')
      ? import('tsx/esm/api').then(({ tsImport }) => tsImport(url, import.meta.url) as Promise<Record<string, unknown>>)
      : (import(url) as Promise<Record<string, unknown>>);
    loaded.set(file, pending);
  }
  try {
    return await pending;
  } catch (err) {
    loaded.delete(file);
    const reason = err instanceof Error ? err.message : String(err);
    throw new OrchError('ORCH_HANDLER_LOAD', `cannot load ${path.basename(file)}: ${reason}`, {
      location: { file },
      cause: err,
    });
  }
}

function exported(mod: Record<string, unknown>, handler: ModuleHandler, file: string): HandlerFn {
  // A CommonJS handler shows up as `default` with its exports as properties.
  const fn = mod[handler.fn] ?? (mod.default as Record<string, unknown> | undefined)?.[handler.fn];
  // Only the arity and call shape can be checked at run time; the contract is documented.
  if (typeof fn === 'function') return fn as HandlerFn;
  throw new OrchError('ORCH_HANDLER_EXPORT', `${path.basename(file)} does not export a function \`${handler.fn}\``, {
    location: { file },
    hint: `add \`export async function ${handler.fn}(params, ctx) { ... }\``,
  });
}

/**
 * Runs a `handler: <module>.<function>` tool: the user's module when one exists beside
 * the config (it overrides a built-in namespace of the same name), else the built-in.
 * What the function returns is the result; what it throws fails the tool.
 */
export async function runModule(handler: ModuleHandler, params: Record<string, unknown>, ctx: HandlerContext): Promise<ToolResult> {
  if (handler.file?.endsWith('.py')) return runPython({ ...handler, file: handler.file }, params, ctx);
  const fn = handler.file === undefined ? builtinHandler(handler.module, handler.fn) : exported(await loadModule(handler.file), handler, handler.file);
  try {
    return { value: await fn(params, ctx) };
  } catch (err) {
    if (isOrchError(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new ToolError(ctx.tool, `${ctx.tool} failed: ${message}`, { cause: err });
  }
}
