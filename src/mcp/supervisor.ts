import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import path from 'node:path';
import { closest } from 'fastest-levenshtein';
import type { McpServerDef } from '../config/model.js';
import { ExitCode, OrchError, isOrchError } from '../errors.js';
import { AuditLog, PendingAudit } from './audit.js';
import { systemClock, type Clock } from '../util/clock.js';
import { McpErrorCode } from './failures.js';
import { ManagedServer, type CallObserver, type CallRequest, type SupervisionPolicy } from './managed-server.js';
export type { CallRequest } from './managed-server.js';
import { reapOrphans } from '../process/pid-registry.js';
import { DEFAULT_STOP_TIMINGS } from '../process/stop.js';
import { secretsRedactor, type Redactor } from '../secrets/redact.js';
import { ToolRegistry, type ServerToolInfo } from './tool-registry.js';

export const DEFAULT_POLICY: SupervisionPolicy = {
  restart: { baseDelayMs: 500, maxDelayMs: 30_000, maxRestarts: 5 },
  breaker: { threshold: 3, cooldownMs: 30_000 },
  stop: DEFAULT_STOP_TIMINGS,
  defaultToolTimeoutMs: 60_000,
};

export interface SupervisorOptions {
  /** `.orch/` of the project (see resolveStateDir): pid records and the audit log. */
  stateDir: string;
  /** orch's own environment: the base of servers' environments and a source of secrets. */
  env?: NodeJS.ProcessEnv;
  policy?: Partial<SupervisionPolicy>;
  clock?: Clock;
}

export type StartOutcome = { server: string; ok: true; tools: number } | { server: string; ok: false; error: OrchError };

/**
 * Runs the configured MCP servers for one orch command: starts them (in parallel, up
 * front or on first use), calls their tools with an audit record each, and ends every
 * process it started on shutdown. It installs no signal handlers: the CLI arms them
 * (src/cli/signals.ts) so that every way orch ends goes through `shutdown` or `killNow`.
 */
export class Supervisor {
  readonly audit: AuditLog;
  /** Hides the secrets of orch's environment and of every server's `env` and `headers`. */
  readonly redactor: Redactor;
  private readonly servers = new Map<string, ManagedServer>();
  /** The servers, in their order: asked of on every call by name. */
  private readonly list: ManagedServer[];
  /** `name.` of each server, in their order: what a qualified tool name starts with. */
  private readonly prefixes: { server: string; prefix: string }[];
  /** The registry of the tools running now, kept while no server's set of tools changes. */
  private registryOf: { tools: readonly Tool[][]; registry: ToolRegistry } | undefined;
  private reaping: Promise<unknown> | undefined;
  /** Set once reaping is done: calls no longer wait for it. */
  private reaped = false;
  private shuttingDown: Promise<void> | undefined;

  constructor(
    defs: Iterable<McpServerDef>,
    private readonly options: SupervisorOptions,
  ) {
    const env = options.env ?? process.env;
    const policy = { ...DEFAULT_POLICY, ...options.policy };
    const list = [...defs];
    this.redactor = secretsRedactor(env, list);
    for (const def of list) {
      const ctx = { stateDir: options.stateDir, parentEnv: env, clock: options.clock ?? systemClock, policy, redactor: this.redactor };
      this.servers.set(def.name, new ManagedServer(def, ctx));
    }
    this.audit = new AuditLog(path.join(options.stateDir, 'audit.jsonl'), this.redactor);
    this.prefixes = [...this.servers.keys()].map((server) => ({ server, prefix: `${server}.` }));
    this.list = [...this.servers.values()];
  }

  names(): string[] {
    return [...this.servers.keys()];
  }

  server(name: string): ManagedServer {
    const found = this.servers.get(name);
    if (found) return found;
    const names = this.names();
    throw new OrchError(McpErrorCode.unknownServer, `no MCP server named "${name}" is configured`, {
      hint:
        names.length > 0
          ? `did you mean "${closest(name, names)}"? (configured: ${names.join(', ')})`
          : 'no servers are configured in mcpServers',
      exitCode: ExitCode.usage,
    });
  }

  /** Starts servers (all by default) in parallel; one failing does not stop the others. */
  async start(names: string[] = this.names()): Promise<StartOutcome[]> {
    const servers = names.map((n) => this.server(n));
    await this.prepare();
    return Promise.all(
      servers.map(async (s): Promise<StartOutcome> => {
        try {
          const conn = await s.connection();
          return { server: s.def.name, ok: true, tools: conn.tools.length };
        } catch (err) {
          if (!isOrchError(err)) throw err;
          return { server: s.def.name, ok: false, error: err };
        }
      }),
    );
  }

  /** The tools of the servers given (all by default), starting those not running yet. */
  async registry(names?: string[]): Promise<ToolRegistry> {
    await this.start(names);
    return this.runningTools();
  }

  /** The tools of the servers running now; starts nothing. */
  runningTools(): ToolRegistry {
    // Built again only when a server's tools changed (it started, or started again): a
    // call by name resolves against it every time, and building it costs more than the call.
    const servers = this.list;
    const kept = this.registryOf;
    if (kept && servers.every((s, i) => s.tools === kept.tools[i])) return kept.registry;
    const tools = servers.map((s) => s.tools);
    const registry = new ToolRegistry(servers.map((s, i) => ({ server: s.def.name, tools: tools[i] ?? [] })));
    this.registryOf = { tools, registry };
    return registry;
  }

  /** Calls a tool by the name an agent uses: `server.tool`, or a bare name unique among servers. */
  call(name: string, args: Record<string, unknown>, request: CallRequest = {}): Promise<CallToolResult> {
    const prefix = this.prefixes.find((p) => name.startsWith(p.prefix))?.server;
    // Every server the name may be on already runs: nothing to start or wait for.
    if (this.reaped && this.running(prefix)) {
      try {
        const found = this.runningTools().resolve(name);
        return this.callTool(found.server, found.tool.name, args, request);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.registry(prefix === undefined ? undefined : [prefix]).then((registry) => {
      const found = registry.resolve(name);
      return this.callTool(found.server, found.tool.name, args, request);
    });
  }

  /** Whether the server named (all by default) runs, so `start` would find nothing to do. */
  private running(name?: string): boolean {
    if (name !== undefined) return this.servers.get(name)?.status === 'running';
    for (const s of this.list) if (s.status !== 'running') return false;
    return true;
  }

  /**
   * Calls `tool` of `server`; every call, whatever its outcome, leaves one audit line. A
   * plain promise chain, not an async function: this runs for every call.
   */
  callTool(server: string, tool: string, args: Record<string, unknown>, request: CallRequest = {}): Promise<CallToolResult> {
    let managed: ManagedServer;
    try {
      managed = this.server(server);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.reaping) return this.prepare().then(() => this.audited(managed, server, tool, args, request));
    return this.audited(managed, server, tool, args, request);
  }

  /** The call, with its audit line unless the caller writes one (`audited`). */
  private audited(managed: ManagedServer, server: string, tool: string, args: Record<string, unknown>, request: CallRequest): Promise<CallToolResult> {
    if (request.audited) return managed.callTool(tool, args, request);
    const call = new AuditedCall(this.audit, server, tool, args);
    try {
      return managed.callTool(tool, args, request, call);
    } catch (err) {
      call.failed(err);
      return Promise.reject(err);
    }
  }

  /** The tools of every server (starting them), as an LLM agent is offered them: `server.tool`, with its schema. */
  async describeTools(): Promise<ServerToolInfo[]> {
    return (await this.registry()).all().map(({ qualifiedName, tool }) => ({
      name: qualifiedName,
      description: tool.description ?? tool.title ?? qualifiedName,
      inputSchema: tool.inputSchema,
      destructive: tool.annotations?.destructiveHint === true,
      readOnly: tool.annotations?.readOnlyHint === true,
    }));
  }

  /** Ends every server and waits until all their processes are gone. Safe to call twice. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      try {
        await Promise.all([...this.servers.values()].map((s) => s.stop()));
      } finally {
        await this.audit.close();
      }
    })();
    return this.shuttingDown;
  }

  /**
   * SIGKILLs what is left of every server, synchronously, including those still starting
   * or closing: the last resort when orch must exit now (a second Ctrl-C, an `exit` hook).
   */
  killNow(): void {
    for (const server of this.servers.values()) server.killNow();
  }

  /** Before the first server starts: reap what a killed orch left behind. */
  private prepare(): Promise<unknown> {
    this.reaping ??= reapOrphans(this.options.stateDir, DEFAULT_STOP_TIMINGS).then((reaped) => {
      this.reaped = true;
      return reaped;
    });
    return this.reaping;
  }
}

/** A supervisor call's audit line: the call's observer, timed from its dispatch. */
class AuditedCall extends PendingAudit implements CallObserver {
  dispatched(): void {
    // A lazy start or a rate-limit wait is not the tool's time.
    this.restart();
  }

  answered(result: CallToolResult): CallToolResult {
    this.end(result.isError === true ? 'tool_error' : 'ok');
    return result;
  }

  failed(err: unknown): void {
    const error = isOrchError(err) ? err : new OrchError(McpErrorCode.toolError, String(err));
    this.end('error', { code: error.code, message: error.message });
  }
}
