import { BUILTIN_HANDLERS } from '../config/builtins.js';
import { ExitCode, OrchError } from '../errors.js';
import type { HandlerFn } from './handler.js';

/**
 * Implementations of the built-in handler namespaces, by namespace and function. The
 * config loader already knows their names (config/builtins.ts) so projects using them
 * validate; a name listed there but missing here is reported as not yet available.
 */
const implementations: Record<string, Record<string, HandlerFn>> = {};

/** Namespaces whose implementation is imported on first use, keeping startup light. */
const lazyNamespaces: Record<string, () => Promise<Record<string, HandlerFn>>> = {};

/**
 * Registers a built-in namespace that is loaded on first use. The layers above tools
 * register theirs (src/orchestration/register.ts), so this module never imports upward.
 */
export function registerLazyBuiltin(namespace: string, load: () => Promise<Record<string, HandlerFn>>): void {
  lazyNamespaces[namespace] = load;
}

/** Registers a built-in namespace's implementation. */
export function registerBuiltin(namespace: string, handlers: Record<string, HandlerFn>): void {
  implementations[namespace] = { ...implementations[namespace], ...handlers };
}

/** The built-in handler `namespace.fn`, or an OrchError saying why there is none. */
export function builtinHandler(namespace: string, fn: string): HandlerFn {
  const handler = implementations[namespace]?.[fn];
  if (handler) return handler;
  const load = lazyNamespaces[namespace];
  if (load && BUILTIN_HANDLERS[namespace]?.includes(fn)) {
    return async (params, ctx) => {
      const lazy = (await load())[fn];
      if (!lazy) throw notAvailable(namespace, fn);
      return lazy(params, ctx);
    };
  }
  if (BUILTIN_HANDLERS[namespace]?.includes(fn)) throw notAvailable(namespace, fn);
  throw new OrchError('ORCH_HANDLER_NOT_FOUND', `handler module \`${namespace}\` not found`, {
    hint: `create handlers/${namespace}.ts beside gantz.yaml exporting \`${fn}(params, ctx)\``,
    exitCode: ExitCode.usage,
  });
}

function notAvailable(namespace: string, fn: string): OrchError {
  return new OrchError('ORCH_NOT_AVAILABLE', `the built-in handler \`${namespace}.${fn}\` is not yet available in this version`, {
    hint: `to use your own, create handlers/${namespace}.ts beside gantz.yaml exporting \`${fn}(params, ctx)\``,
    exitCode: ExitCode.usage,
  });
}
