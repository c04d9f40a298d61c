import { existsSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_FILE, BUILTIN_HANDLERS, BUILTIN_TOOLS, HANDLER_EXTENSIONS } from './builtins.js';
import { parseDuration } from './duration.js';
import { expandField, expandMap, type VarScope } from './expand.js';
import { under, type IssueSink } from './locate.js';
import type { JsonSchema, JsonType, Origin, ParamDef, ToolDef, ToolHandler } from './model.js';
import { suggest } from '../util/suggest.js';

interface RawParam {
  name?: string;
  type?: JsonType;
  description?: string;
  required?: boolean;
  default?: unknown;
  [schemaKey: string]: unknown;
}

interface RawTool {
  name?: string;
  description?: string;
  parameters?: Record<string, RawParam> | RawParam[];
  handler?: string;
  script?: { shell?: string; command?: string; args?: string[]; working_dir?: string; timeout?: number | string };
  http?: {
    method?: string;
    url: string;
    headers?: Record<string, unknown>;
    body?: unknown;
    timeout?: number | string;
    extract_json?: string;
  };
  mcp?: { server: string; tool: string };
  environment?: Record<string, unknown>;
  destructive?: boolean;
  read_only?: boolean;
  idempotent?: boolean;
}

export interface ToolContext {
  sink: IssueSink;
  scope: VarScope;
  /** Directory of gantz.yaml: `handlers/` and relative paths are beside it. */
  configDir: string;
}

/** Normalises `tools:` of either dialect into `into`. */
export function normaliseTools(
  raw: Record<string, RawTool> | RawTool[] | undefined,
  origin: Origin,
  into: Map<string, ToolDef>,
  ctx: ToolContext,
): void {
  if (raw === undefined) return;
  const entries: [string, RawTool, Origin][] = Array.isArray(raw)
    ? raw.map((tool, i) => [tool.name ?? '', tool, under(origin, i)])
    : Object.entries(raw).map(([name, tool]) => [name, tool, under(origin, name)]);
  const dialect = Array.isArray(raw) ? 'list' : 'map';
  for (const [name, tool, at] of entries) {
    if (into.has(name)) {
      ctx.sink.error('ORCH_DUPLICATE_TOOL', under(at, 'name'), `tool \`${name}\` is declared twice`, {
        hint: 'give each tool a unique name',
      });
      continue;
    }
    const handler = normaliseHandler(name, tool, at, ctx);
    if (!handler) {
      ctx.sink.brokenTools.add(name);
      continue;
    }
    const params = normaliseParams(tool.parameters, under(at, 'parameters'), ctx.sink);
    into.set(name, {
      name,
      description: tool.description ?? '',
      params,
      inputSchema: inputSchema(params),
      handler,
      environment: expandMap(ctx.sink, ctx.scope, under(at, 'environment'), tool.environment),
      dialect,
      ...(tool.destructive === true ? { destructive: true } : {}),
      ...(tool.read_only === true ? { readOnly: true } : {}),
      ...(tool.idempotent === false ? { idempotent: false } : {}),
      origin: at,
    });
  }
}

/**
 * Adds the built-in orchestration tools the project does not declare itself: available
 * everywhere, as `orch scale` is. Their handlers are the built-in `orchestration` ones.
 */
export function addBuiltinTools(into: Map<string, ToolDef>, skip: ReadonlySet<string> = new Set()): void {
  for (const [name, spec] of Object.entries(BUILTIN_TOOLS)) {
    if (into.has(name) || skip.has(name)) continue;
    const params = normaliseParams(spec.parameters, { file: BUILTIN_FILE, path: ['tools', name, 'parameters'] });
    into.set(name, {
      name,
      description: spec.description,
      params,
      inputSchema: inputSchema(params),
      handler: { kind: 'module', module: 'orchestration', fn: name },
      environment: {},
      dialect: 'map',
      builtin: true,
      origin: { file: BUILTIN_FILE, path: ['tools', name] },
    });
  }
}

/** The tools the project's files declare: the built-in ones it does not declare left out. */
export function declaredTools(tools: ReadonlyMap<string, ToolDef>): ToolDef[] {
  return [...tools.values()].filter((t) => t.builtin !== true);
}

function normaliseParams(raw: RawTool['parameters'], origin: Origin, sink?: IssueSink): ParamDef[] {
  const list: [string, RawParam, Origin][] = Array.isArray(raw)
    ? raw.map((p, i) => [p.name ?? '', p, under(origin, i)])
    : Object.entries(raw ?? {}).map(([name, p]) => [name, p, under(origin, name)]);
  return list.map(([name, p, at]) => {
    const { name: _name, required, default: _default, ...schema } = p;
    const type = p.type ?? 'string';
    // Built-in tools (no sink) have no defaults to check.
    const fallback = p.default === undefined ? undefined : sink ? coerceDefault(name, type, p.default, under(at, 'default'), sink) : p.default;
    return {
      name,
      type,
      description: p.description,
      required: required === true,
      default: fallback,
      schema: { ...schema, ...(fallback === undefined ? {} : { default: fallback }), type },
    };
  });
}

/**
 * A parameter's `default` as a value of its type. The Gantz CLI reads every default as a
 * string (`type: number, default: "10"`), so text that reads as the type is taken as it; a
 * default that fits in no way is reported here rather than failing each call.
 */
function coerceDefault(name: string, type: JsonType, value: unknown, at: Origin, sink: IssueSink): unknown {
  const text = typeof value === 'string' ? value.trim() : undefined;
  let coerced: unknown = value;
  if ((type === 'number' || type === 'integer') && text !== undefined && text !== '' && Number.isFinite(Number(text))) coerced = Number(text);
  else if (type === 'boolean' && (text === 'true' || text === 'false')) coerced = text === 'true';
  else if (type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) coerced = String(value);
  if (fitsType(type, coerced)) return coerced;
  sink.error('ORCH_PARAM_DEFAULT', at, `the default of parameter \`${name}\` is ${JSON.stringify(value)}, which is not ${article(type)}`, {
    hint: `give a default of type ${type}, or change the parameter's type`,
  });
  return undefined;
}

function fitsType(type: JsonType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'null':
      return value === null;
    default: {
      const never: never = type;
      return never;
    }
  }
}

function article(type: JsonType): string {
  return type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

/** The JSON Schema of a tool's input object. */
export function inputSchema(params: ParamDef[]): JsonSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
    required: params.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
}

const KINDS = ['handler', 'script', 'http', 'mcp'] as const;

function normaliseHandler(name: string, tool: RawTool, at: Origin, ctx: ToolContext): ToolHandler | undefined {
  const { sink, scope } = ctx;
  const present = KINDS.filter((k) => tool[k] !== undefined);
  if (present.length === 0) {
    sink.error('ORCH_NO_HANDLER', at, `tool \`${name}\` has no handler`, {
      key: typeof at.path[at.path.length - 1] === 'string',
      hint: 'add one of `handler: <module>.<function>`, `script:`, `http:` or `mcp: {server, tool}`',
    });
    return undefined;
  }
  if (present.length > 1) {
    sink.error('ORCH_HANDLER_CONFLICT', under(at, present[1] ?? 'handler'), `tool \`${name}\` has both \`${present[0]}\` and \`${present[1]}\``, {
      key: true,
      hint: 'a tool has exactly one of `handler`, `script`, `http`, `mcp`',
    });
    return undefined;
  }
  if (tool.handler !== undefined) return moduleOrMcp(tool.handler, under(at, 'handler'), ctx);
  if (tool.mcp) return { kind: 'mcp', server: tool.mcp.server, tool: tool.mcp.tool };
  if (tool.http) {
    const h = tool.http;
    const hat = under(at, 'http');
    return {
      kind: 'http',
      method: (h.method ?? 'GET').toUpperCase(),
      url: expandField(sink, scope, under(hat, 'url'), h.url),
      headers: expandMap(sink, scope, under(hat, 'headers'), h.headers),
      body: h.body,
      timeoutMs: parseDuration(h.timeout),
      extractJson: h.extract_json,
    };
  }
  const s = tool.script ?? {};
  const sat = under(at, 'script');
  if ((s.shell === undefined) === (s.command === undefined)) {
    sink.error('ORCH_SCRIPT_COMMAND', sat, s.shell === undefined ? 'script needs `shell` or `command`' : 'script has both `shell` and `command`', {
      key: true,
      hint: '`command` + `args` run a program directly; `shell` runs a command line under sh',
    });
    return undefined;
  }
  return {
    kind: 'script',
    shell: s.shell,
    command: s.command === undefined ? undefined : expandField(sink, scope, under(sat, 'command'), s.command),
    args: (s.args ?? []).map((a, i) => expandField(sink, scope, under(sat, 'args', i), a)),
    workingDir:
      s.working_dir === undefined ? undefined : path.resolve(ctx.configDir, expandField(sink, scope, under(sat, 'working_dir'), s.working_dir)),
    timeoutMs: parseDuration(s.timeout),
  };
}

function moduleOrMcp(spec: string, at: Origin, ctx: ToolContext): ToolHandler | undefined {
  if (spec.startsWith('mcp:')) {
    const [server = '', ...rest] = spec.slice(4).split('/');
    return { kind: 'mcp', server, tool: rest.join('/') };
  }
  const dot = spec.indexOf('.');
  const module = spec.slice(0, dot);
  const fn = spec.slice(dot + 1);
  const base = path.join(ctx.configDir, 'handlers', module);
  const file = HANDLER_EXTENSIONS.map((ext) => base + ext).find((f) => existsSync(f));
  if (file) return { kind: 'module', module, fn, file };
  const builtin = BUILTIN_HANDLERS[module];
  if (builtin) {
    if (builtin.includes(fn)) return { kind: 'module', module, fn };
    const guess = suggest(fn, builtin);
    ctx.sink.error('ORCH_UNKNOWN_HANDLER', at, `\`${module}\` has no handler \`${fn}\``, {
      hint: guess ? `did you mean \`${module}.${guess}\`?` : `built-in ${module} handlers: ${builtin.join(', ')}`,
    });
    return undefined;
  }
  const rel = path.relative(ctx.configDir, base);
  ctx.sink.error('ORCH_HANDLER_NOT_FOUND', at, `handler module \`${module}\` not found`, {
    hint: `create ${HANDLER_EXTENSIONS.map((e) => rel + e).join(' or ')} exporting \`${fn}(params, ctx)\``,
  });
  return undefined;
}
