import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { A2A_VERSION_HEADER, AGENT_CARD_PATH, AgentCard } from '@a2a-js/sdk';
import { legacyAgentCardRouter } from '@a2a-js/sdk/compat/v0_3/server/express';
import { InMemoryTaskStore, UnauthenticatedUser } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, type UserBuilder } from '@a2a-js/sdk/server/express';
import express from 'express';
import type { Project } from '../config/model.js';
import type { Supervisor } from '../mcp/supervisor.js';
import { teamCard } from './a2a-card.js';
import { TeamExecutor, TeamRequestHandler } from './a2a-team.js';
import { hostGuard } from './http.js';

export interface A2aServeOptions {
  project: Project;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** orch's version, for a project that names none. */
  version: string;
  /** `--token-env`: the bearer token every JSON-RPC request must carry. */
  token?: string;
  supervisor?: Supervisor;
  /** Aborted when the server shuts down: running tasks' runs are interrupted. */
  shutdown: AbortSignal;
  onBug: (err: unknown) => void;
}

export interface A2aServing {
  /** The agent's base URL: the card is at `<url>.well-known/agent-card.json`, JSON-RPC at the URL itself. */
  url: string;
  /** Waits for the runs the shutdown signal interrupted, stops accepting requests and frees the port. */
  close(): Promise<void>;
}

/** The JSON-RPC endpoint's path, under the base URL. */
const RPC_PATH = '/';

/**
 * Serves the team as an A2A agent (the SDK's JSON-RPC transport on express, with v0.3
 * compatibility): the Agent Card at `/.well-known/agent-card.json`, JSON-RPC at `/`.
 * Host and Origin are checked as for MCP over HTTP; with a token, every JSON-RPC request
 * must carry `Authorization: Bearer <token>` (the card, public, advertises the scheme).
 */
export async function serveA2a(options: A2aServeOptions): Promise<A2aServing> {
  const refused = hostGuard(options.host);
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const why = refused(req.headers);
    if (why) res.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message: why }, id: null });
    else next();
  });

  const executor = new TeamExecutor(options.project, { supervisor: options.supervisor, shutdown: options.shutdown, onBug: options.onBug });
  const listening = await listen(app, options.host, options.port);
  const { port } = listening.address() as AddressInfo; // listening on TCP: never a pipe name
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  const base = `http://${shown}:${port}`;
  const cardAt = (origin: string) => teamCard(options.project, { url: `${origin}${RPC_PATH}`, version: options.version, bearer: options.token !== undefined });
  const tasks = new InMemoryTaskStore();
  const handler = new TeamRequestHandler(options.project, cardAt(base), tasks, executor);

  // The card names the endpoint by the name the client reached us by (a `--host` name, or the wildcard's real name).
  app.use(`/${AGENT_CARD_PATH}`, (req, res, next) => {
    const origin = req.headers.host ? `http://${req.headers.host}` : base;
    const card = cardAt(origin);
    // A v0.3 client (no A2A-Version, or 0.x) gets the SDK's translation of the card.
    if (/^0\./.test(req.header(A2A_VERSION_HEADER) ?? '0.3')) return legacyAgentCardRouter({ agentCardProvider: async () => card })(req, res, next);
    // The SDK's v1.0 card handler writes the object as it is given: it is given the card's wire (ProtoJSON) form.
    agentCardHandler({ agentCardProvider: async () => AgentCard.toJSON(card) as AgentCard })(req, res, next);
  });
  const userBuilder: UserBuilder = async () => new UnauthenticatedUser();
  const token = options.token;
  if (token !== undefined) {
    app.use(RPC_PATH, (req, res, next) => {
      if (bearerMatches(req.headers.authorization, token)) return next();
      res
        .status(401)
        .set('WWW-Authenticate', 'Bearer')
        .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Unauthorized: send Authorization: Bearer <token>' }, id: null });
    });
  }
  app.use(RPC_PATH, jsonRpcHandler({ requestHandler: handler, userBuilder, legacyCompat: { enabled: true } }));

  return {
    url: `${base}/`,
    close: async () => {
      await executor.settle();
      await new Promise<void>((resolve) => {
        listening.closeAllConnections();
        listening.close(() => resolve());
      });
    },
  };
}

function listen(app: express.Express, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.once('error', reject);
  });
}

/** The header carries the token, compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1].trim());
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
