import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface HttpServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Builds the MCP server of one session. */
  createServer: () => Server;
  onError: (err: unknown) => void;
}

export interface HttpServing {
  /** The endpoint, e.g. http://127.0.0.1:3000/mcp. */
  url: string;
  /** Stops accepting requests, ends open ones, and resolves once the port is free. */
  close(): Promise<void>;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]', '::1'];
const WILDCARD = ['0.0.0.0', '::'];

/**
 * Serves MCP over Streamable HTTP at `/mcp`, with sessions: an `initialize` POST opens one
 * (its own MCP server and transport, named by the `Mcp-Session-Id` the client then sends),
 * so a `notifications/cancelled` reaches the running call it names (whose scripts are then
 * killed), server-to-client requests (elicitation) and notifications (progress, logs) have
 * a stream to go on, and `DELETE` ends the session, aborting what it still runs.
 *
 * Against DNS rebinding (a web page whose name resolves to 127.0.0.1), the Host and any
 * Origin header must name this machine (loopback, or the `--host` given), port-agnostic
 * as the SDK's hostHeaderValidation; bound to a wildcard address no name can be trusted,
 * and the caller warns.
 */
export async function serveHttp(options: HttpServeOptions): Promise<HttpServing> {
  const refused = hostGuard(options.host);
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; mcp: Server }>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.onError(err);
      if (!res.headersSent) reply(res, 500, -32603, 'Internal server error');
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const why = refused(req.headers);
    if (why) {
      reply(res, 403, -32000, why);
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/mcp') {
      reply(res, 404, -32000, `Not found: the MCP endpoint is /mcp`);
      return;
    }
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const session = sessions.get(id);
      if (!session) {
        reply(res, 404, -32001, 'Session not found: initialize a new session');
        return;
      }
      await session.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      reply(res, req.method === 'GET' || req.method === 'DELETE' ? 400 : 405, -32000, 'Bad Request: send an initialize request first, then the Mcp-Session-Id it gave');
      return;
    }
    const mcp = options.createServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, { transport, mcp }),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      void mcp.close();
    };
    // A request that opened no session (not an initialize) leaves nothing behind.
    res.on('close', () => {
      if (transport.sessionId === undefined) void transport.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Listening on TCP, so the address is never a pipe name or null.
  const { port } = server.address() as AddressInfo;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}/mcp`,
    close: async () => {
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/**
 * Against DNS rebinding: the reason to refuse a request whose Host or Origin is not this
 * machine (loopback, or the `--host` given), else undefined. Bound to a wildcard address
 * any Host may be ours, but a browser's Origin must still be the very name it reached
 * us by (or loopback): another site's page is refused.
 */
export function hostGuard(host: string): (headers: http.IncomingHttpHeaders) => string | undefined {
  const allowed = new Set([...LOOPBACK, host.toLowerCase(), `[${host.toLowerCase()}]`]);
  const guard = !WILDCARD.includes(host);
  return (headers) => {
    if (guard && !(nameAllowed(headers.host, allowed) && originAllowed(headers.origin, allowed))) {
      return 'Forbidden: Host or Origin is not this machine (DNS rebinding protection)';
    }
    if (!guard && !originAllowed(headers.origin, new Set([...LOOPBACK, hostnameOf(headers.host)]))) return 'Forbidden: Origin is another site';
    return undefined;
  };
}

/** Whether the address is a wildcard one, where no Host header can be checked. */
export function isWildcard(host: string): boolean {
  return WILDCARD.includes(host);
}

function reply(res: http.ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** The hostname of a Host header (`name:port`, `[v6]:port`) is one we answer to. */
function nameAllowed(host: string | undefined, allowed: Set<string>): boolean {
  if (host === undefined) return false;
  try {
    return allowed.has(new URL(`http://${host}`).hostname.toLowerCase());
  } catch {
    return false;
  }
}

function hostnameOf(host: string | undefined): string {
  try {
    return host === undefined ? '' : new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** Browsers send Origin on cross-site requests; non-browser clients usually send none. */
function originAllowed(origin: string | undefined, allowed: Set<string>): boolean {
  if (origin === undefined) return true;
  try {
    return allowed.has(new URL(origin).hostname.toLowerCase());
  } catch {
    return false;
  }
}
