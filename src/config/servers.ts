import path from 'node:path';
import type { Issue } from '../errors.js';
import { parseDuration } from './duration.js';
import { expandField, expandMap, type VarScope } from './expand.js';
import { under, type IssueSink } from './locate.js';
import type { DisabledServer, McpServerDef, Origin, ServerTransport } from './model.js';

/** The `mcpServers` entry as the schema admits it. */
interface RawServer {
  type?: 'stdio' | 'http' | 'streamable-http' | 'streamableHttp' | 'sse';
  command?: string;
  args?: string[];
  env?: Record<string, unknown>;
  cwd?: string;
  url?: string;
  headers?: Record<string, unknown>;
  startup_timeout?: number | string;
  tool_timeout?: number | string;
  rate_limit?: { calls: number; per: number | string };
  approval_required?: string[];
  disabled?: boolean;
}

const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

/** The spellings of `type` in use among MCP clients, by the transport each names. */
const TRANSPORTS: Record<NonNullable<RawServer['type']>, ServerTransport> = {
  stdio: 'stdio',
  http: 'http',
  'streamable-http': 'http',
  streamableHttp: 'http',
  sse: 'sse',
};

export interface ServerSet {
  servers: Map<string, McpServerDef>;
  disabled: Map<string, DisabledServer>;
}

export interface ServersInput {
  /** The servers map as parsed (`mcpServers` or VS Code's `servers`). */
  raw: Record<string, unknown> | undefined;
  origin: Origin;
  /** Schema errors inside each server's entry, by server name: that server's alone. */
  schemaProblems: Map<string, Issue[]>;
}

/**
 * Adds the servers of one file's servers map, reporting names already declared elsewhere.
 * A server's own errors (a bad field, an unset variable) become its `problems`, so that
 * one broken server holds up only what needs it; a `disabled` server is set apart unread.
 */
export function normaliseServers(input: ServersInput, into: ServerSet, sink: IssueSink, scope: VarScope, projectDir: string): void {
  for (const [name, value] of Object.entries(input.raw ?? {})) {
    const at = under(input.origin, name);
    const previous = into.servers.get(name) ?? into.disabled.get(name);
    if (previous) {
      const first = sink.source(previous.origin.file)?.display ?? previous.origin.file;
      sink.error('ORCH_DUPLICATE_SERVER', at, `MCP server \`${name}\` is already declared in ${first}`, {
        key: true,
        hint: 'declare each server once, in one of gantz.yaml, agent-team.yaml or .mcp.json',
      });
      continue;
    }
    const entry = (value !== null && typeof value === 'object' ? value : {}) as RawServer;
    if (entry.disabled === true) {
      into.disabled.set(name, { name, origin: at });
      continue;
    }
    const own = sink.fork();
    const schemaProblems = input.schemaProblems.get(name) ?? [];
    const server = schemaProblems.length > 0 ? placeholder(name, at) : normaliseServer(name, entry, at, own, scope, projectDir);
    for (const issue of own.issues) if (issue.severity !== 'error') sink.issues.push(issue);
    const problems = [...schemaProblems, ...own.issues.filter((i) => i.severity === 'error')];
    into.servers.set(name, problems.length > 0 ? { ...server, problems } : server);
  }
}

/** A server whose entry failed its schema: it exists (commands can name it) but cannot start. */
function placeholder(name: string, origin: Origin): McpServerDef {
  return { name, transport: 'stdio', args: [], env: {}, headers: {}, startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS, origin };
}

function normaliseServer(name: string, entry: RawServer, at: Origin, sink: IssueSink, scope: VarScope, projectDir: string): McpServerDef {
  const hasCommand = entry.command !== undefined;
  const hasUrl = entry.url !== undefined;
  const transport: ServerTransport = entry.type === undefined ? (hasCommand ? 'stdio' : 'http') : TRANSPORTS[entry.type];
  if (hasCommand === hasUrl) {
    sink.error(
      'ORCH_SERVER_TRANSPORT',
      at,
      hasCommand ? `MCP server \`${name}\` has both \`command\` and \`url\`` : `MCP server \`${name}\` has neither \`command\` nor \`url\``,
      { key: true, hint: 'give `command` (+ `args`) for a local server, or `url` for a remote one (Streamable HTTP, or `type: sse`)' },
    );
  } else if ((transport === 'stdio') !== hasCommand) {
    sink.error('ORCH_SERVER_TRANSPORT', under(at, 'type'), `\`type: ${entry.type ?? ''}\` does not match ${hasCommand ? '`command`' : '`url`'}`, {
      hint: hasCommand ? 'use `type: stdio` or drop `type`' : 'use `type: http` (Streamable HTTP) or `type: sse`, or drop `type`',
    });
  }
  const field = (key: string, raw: unknown, ...sub: (string | number)[]): string => expandField(sink, scope, under(at, key, ...sub), raw);
  return {
    name,
    transport,
    command: entry.command === undefined ? undefined : field('command', entry.command),
    args: (entry.args ?? []).map((arg, i) => field('args', arg, i)),
    env: expandMap(sink, scope, under(at, 'env'), entry.env),
    // Servers run in the project directory unless told otherwise, so relative paths in
    // their arguments mean the same whichever directory orch was started from.
    cwd: hasCommand ? path.resolve(projectDir, entry.cwd === undefined ? '.' : field('cwd', entry.cwd)) : undefined,
    url: entry.url === undefined ? undefined : field('url', entry.url),
    headers: expandMap(sink, scope, under(at, 'headers'), entry.headers),
    startupTimeoutMs: parseDuration(entry.startup_timeout) ?? DEFAULT_STARTUP_TIMEOUT_MS,
    toolTimeoutMs: parseDuration(entry.tool_timeout),
    rateLimit: entry.rate_limit === undefined ? undefined : { calls: entry.rate_limit.calls, perMs: parseDuration(entry.rate_limit.per) ?? 1000 },
    ...(entry.approval_required !== undefined && { approvalRequired: entry.approval_required }),
    origin: at,
  };
}
