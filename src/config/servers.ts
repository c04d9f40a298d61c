import path from 'node:path';
import { parseDuration } from './duration.js';
import { expandField, expandMap } from './expand.js';
import { under, type IssueSink } from './locate.js';
import type { McpServerDef, Origin } from './model.js';

/** The `mcpServers` entry as the schema admits it. */
interface RawServer {
  type?: 'stdio' | 'http' | 'streamable-http';
  command?: string;
  args?: string[];
  env?: Record<string, unknown>;
  cwd?: string;
  url?: string;
  headers?: Record<string, unknown>;
  startup_timeout?: number | string;
  tool_timeout?: number | string;
  rate_limit?: { calls: number; per: number | string };
}

const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

/** Adds the servers of one file's `mcpServers` map, reporting names already declared elsewhere. */
export function normaliseServers(
  raw: Record<string, RawServer> | undefined,
  origin: Origin,
  into: Map<string, McpServerDef>,
  sink: IssueSink,
  env: NodeJS.ProcessEnv,
  projectDir: string,
): void {
  for (const [name, entry] of Object.entries(raw ?? {})) {
    const at = under(origin, name);
    const previous = into.get(name);
    if (previous) {
      const first = sink.source(previous.origin.file)?.display ?? previous.origin.file;
      sink.error('ORCH_DUPLICATE_SERVER', at, `MCP server \`${name}\` is already declared in ${first}`, {
        key: true,
        hint: 'declare each server once, in one of gantz.yaml, agent-team.yaml or .mcp.json',
      });
      continue;
    }
    const hasCommand = entry.command !== undefined;
    const hasUrl = entry.url !== undefined;
    if (hasCommand === hasUrl) {
      sink.error(
        'ORCH_SERVER_TRANSPORT',
        at,
        hasCommand ? `MCP server \`${name}\` has both \`command\` and \`url\`` : `MCP server \`${name}\` has neither \`command\` nor \`url\``,
        { key: true, hint: 'give `command` (+ `args`) for a local server, or `url` for a Streamable HTTP one' },
      );
      continue;
    }
    const transport = hasCommand ? 'stdio' : 'http';
    if (entry.type !== undefined && (entry.type === 'stdio') !== hasCommand) {
      sink.error('ORCH_SERVER_TRANSPORT', under(at, 'type'), `\`type: ${entry.type}\` does not match ${hasCommand ? '`command`' : '`url`'}`, {
        hint: hasCommand ? 'use `type: stdio` or drop `type`' : 'use `type: http` or drop `type`',
      });
    }
    // Servers run in the project directory unless told otherwise, so relative paths in
    // their arguments mean the same whichever directory orch was started from.
    const cwd = hasCommand ? path.resolve(projectDir, entry.cwd === undefined ? '.' : expandField(sink, env, under(at, 'cwd'), entry.cwd)) : undefined;
    const server: McpServerDef = {
      name,
      transport,
      command: entry.command === undefined ? undefined : expandField(sink, env, under(at, 'command'), entry.command),
      args: (entry.args ?? []).map((arg, i) => expandField(sink, env, under(at, 'args', i), arg)),
      env: expandMap(sink, env, under(at, 'env'), entry.env),
      cwd,
      url: entry.url === undefined ? undefined : expandField(sink, env, under(at, 'url'), entry.url),
      headers: expandMap(sink, env, under(at, 'headers'), entry.headers),
      startupTimeoutMs: parseDuration(entry.startup_timeout) ?? DEFAULT_STARTUP_TIMEOUT_MS,
      toolTimeoutMs: parseDuration(entry.tool_timeout),
      rateLimit:
        entry.rate_limit === undefined
          ? undefined
          : { calls: entry.rate_limit.calls, perMs: parseDuration(entry.rate_limit.per) ?? 1000 },
      origin: at,
    };
    into.set(name, server);
  }
}
