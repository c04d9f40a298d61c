import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerDef } from '../config/model.js';
import { ConfigError, type OrchError } from '../errors.js';
import { CircuitBreaker, backoffDelay, type BreakerPolicy } from './circuit-breaker.js';
import type { Clock } from '../util/clock.js';
import { currentResult, type SdkCallResult } from './call-result.js';
import type { CallOptions, ServerConnection } from './connection.js';
import * as fail from './failures.js';
import type { StopTimings } from '../process/stop.js';
import { RateLimiter } from './rate-limit.js';
import type { Redactor } from '../secrets/redact.js';
import { ToolRegistry } from './tool-registry.js';

export interface RestartPolicy {
  /** Delay before the first restart; doubled for each further one in a row. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Restarts in a row (without a successful call between them) before orch gives up. */
  maxRestarts: number;
}

export interface SupervisionPolicy {
  restart: RestartPolicy;
  breaker: BreakerPolicy;
  /**
   * The stages for what a stdio server leaves behind (its descendants); the SDK's transport
   * stops the server's own process, with its own stages.
   */
  stop: StopTimings;
  /** Per-call timeout for servers without `tool_timeout`. */
  defaultToolTimeoutMs: number;
}

export interface ServerContext {
  stateDir: string;
  parentEnv: NodeJS.ProcessEnv;
  clock: Clock;
  policy: SupervisionPolicy;
  /** Hides secrets in error messages built from what a server wrote. */
  redactor: Redactor;
}

/** A call's options; without `timeoutMs`, the server's `tool_timeout` or the policy's default applies. */
/** `audited`: the caller (the agent runtime's audit link) records the call, so the supervisor does not. */
export type CallRequest = Omit<CallOptions, 'timeoutMs'> & { timeoutMs?: number; audited?: boolean };

/**
 * Told how a call goes, whatever way it ends: `dispatched` when the request leaves (after
 * any lazy start or rate-limit wait), then `answered` with the result (which it returns)
 * or `failed`. The supervisor's audit line of the call is one.
 */
export interface CallObserver {
  dispatched(): void;
  answered(result: CallToolResult): CallToolResult;
  failed(err: unknown): void;
}

/** The tools of a server not started yet. Frozen: it is shared. */
const NO_TOOLS: Tool[] = Object.freeze([]) as unknown as Tool[];

export type ServerStatus = 'idle' | 'starting' | 'running' | 'exited' | 'failed' | 'stopped';

/**
 * One configured server across its whole life: started on first use, restarted with
 * backoff after it exits, guarded by a circuit breaker and an optional rate limit.
 */
export class ManagedServer {
  private conn: ServerConnection | undefined;
  private starting: Promise<ServerConnection> | undefined;
  /** The connection `start` is opening, so that a shutdown can end it mid-start. */
  private opening: ServerConnection | undefined;
  /** Connections still being closed; `killNow` must reach them too. */
  private readonly closings = new Map<ServerConnection, Promise<void>>();
  private readonly breaker: CircuitBreaker;
  private readonly limiter: RateLimiter | undefined;
  private attempts = 0;
  private restartsInARow = 0;
  private lastError: OrchError | undefined;
  private stopped = false;
  /** Cuts short a backoff wait when the server is stopped. */
  private readonly stopping = new AbortController();

  constructor(
    readonly def: McpServerDef,
    private readonly ctx: ServerContext,
  ) {
    this.breaker = new CircuitBreaker(ctx.policy.breaker, ctx.clock);
    this.limiter = def.rateLimit && new RateLimiter(def.rateLimit, ctx.clock);
  }

  get status(): ServerStatus {
    if (this.stopped) return 'stopped';
    if (this.starting) return 'starting';
    if (this.conn && !this.conn.hasEnded) return 'running';
    if (this.conn) return 'exited';
    return this.lastError ? 'failed' : 'idle';
  }

  get error(): OrchError | undefined {
    return this.lastError;
  }

  /** The tools of the current connection; the same array until the server starts again. */
  get tools(): Tool[] {
    return this.conn?.tools ?? NO_TOOLS;
  }

  get pid(): number | undefined {
    return this.conn?.pid;
  }

  /** A running connection: the current one, or a (re)started one. */
  async connection(): Promise<ServerConnection> {
    this.admit();
    const probe = this.breaker.probing; // this very request is the breaker's probe
    try {
      return await this.ensureRunning();
    } finally {
      // No call follows to judge a probe that found the server running: free its slot.
      if (probe) this.breaker.release();
    }
  }

  callTool(tool: string, args: Record<string, unknown>, options: CallRequest, observer?: CallObserver): Promise<CallToolResult> {
    // The common case (a running server that has the tool, no rate limit) takes no async
    // step of its own: this runs for every call, and each step costs more than the checks.
    const conn = this.conn;
    if (conn && !conn.hasEnded && !this.limiter && conn.toolNames.has(tool)) {
      try {
        this.admit();
      } catch (err) {
        observer?.failed(err);
        return Promise.reject(err);
      }
      return this.dispatch(conn, tool, args, options, observer);
    }
    return this.callWhenReady(tool, args, options, observer);
  }

  /** Starts the server if need be, checks the tool and waits for the rate limit, then calls. */
  private async callWhenReady(tool: string, args: Record<string, unknown>, options: CallRequest, observer?: CallObserver): Promise<CallToolResult> {
    let conn: ServerConnection;
    try {
      this.admit();
      conn = this.conn && !this.conn.hasEnded ? this.conn : await this.ensureRunning();
      if (!conn.toolNames.has(tool)) {
        this.breaker.release(); // a typo says nothing about the server's health
        new ToolRegistry([{ server: this.def.name, tools: conn.tools }]).resolve(`${this.def.name}.${tool}`); // throws, with a suggestion
      }
      if (this.limiter) await this.limiter.acquire(options.signal);
    } catch (err) {
      observer?.failed(err);
      throw err;
    }
    return this.dispatch(conn, tool, args, options, observer);
  }

  private dispatch(conn: ServerConnection, tool: string, args: Record<string, unknown>, options: CallRequest, observer?: CallObserver): Promise<CallToolResult> {
    const timeoutMs = options.timeoutMs ?? this.def.toolTimeoutMs ?? this.ctx.policy.defaultToolTimeoutMs;
    observer?.dispatched();
    // The observer is told in the call's own settling step: no step of its own is added.
    return conn.callTool(
      tool,
      args,
      { signal: options.signal, onProgress: options.onProgress, timeoutMs },
      observer === undefined ? this.answered : (result) => observer.answered(this.answered(result)),
      (err: unknown) => {
        const failure = this.classify(err, conn, tool, timeoutMs, options.signal);
        observer?.failed(failure);
        throw failure;
      },
    );
  }

  /** A call the server answered: it is alive and well. One function for every call. */
  private readonly answered = (result: SdkCallResult): CallToolResult => {
    const current = currentResult(result);
    this.breaker.recordSuccess();
    this.restartsInARow = 0;
    return current;
  };

  /**
   * Ends the server for good; waits until its whole process tree is gone. A start under
   * way is cut short, not waited for: a hung server must not hold up Ctrl-C.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.opening) this.closeLater(this.opening);
    if (this.conn) this.closeLater(this.conn);
    await Promise.all(this.closings.values());
  }

  /** SIGKILLs what is left, synchronously, including a server still starting or closing. */
  killNow(): void {
    this.opening?.killNow();
    this.conn?.killNow();
    for (const conn of this.closings.keys()) conn.killNow();
  }

  /** Refuses at once a server whose declaration has errors, or while it is shut down or its circuit is open. */
  private admit(): void {
    if (this.def.problems && this.def.problems.length > 0) throw new ConfigError(this.def.problems);
    if (this.stopped) throw fail.stoppedError(this.def);
    const decision = this.breaker.check();
    if (!decision.allowed) throw fail.unavailableError(this.def, decision.retryInMs, this.lastError);
  }

  private ensureRunning(): Promise<ServerConnection> {
    if (this.conn && !this.conn.hasEnded) return Promise.resolve(this.conn);
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<ServerConnection> {
    // The breaker's probe after its cooldown is a trial start: no backoff (the cooldown
    // was one) and no restart budget, or a server fixed meanwhile could never come back.
    const trial = this.breaker.probing;
    if (this.attempts > 0 && !trial) {
      if (this.restartsInARow >= this.ctx.policy.restart.maxRestarts) {
        this.breaker.trip();
        throw fail.unavailableError(this.def, this.ctx.policy.breaker.cooldownMs, this.lastError);
      }
      this.restartsInARow += 1;
      const { baseDelayMs, maxDelayMs } = this.ctx.policy.restart;
      const delay = backoffDelay(this.restartsInARow, baseDelayMs, maxDelayMs);
      await this.ctx.clock.sleep(delay, this.stopping.signal).catch(() => {}); // aborted: stopped, seen below
    }
    if (this.stopped) throw fail.stoppedError(this.def);
    this.attempts += 1;
    // The MCP SDK (client, transports, protocol schemas) loads with the first server started, not with every orch command.
    const { ServerConnection } = await import('./connection.js');
    if (this.stopped) throw fail.stoppedError(this.def);
    const conn: ServerConnection = new ServerConnection(this.def, {
      stateDir: this.ctx.stateDir,
      parentEnv: this.ctx.parentEnv,
      stopTimings: this.ctx.policy.stop,
      onExit: () => this.onExit(conn),
    });
    this.opening = conn;
    try {
      await conn.connect(this.def.startupTimeoutMs);
    } catch (err) {
      this.closeLater(conn);
      if (this.stopped) throw fail.stoppedError(this.def);
      this.lastError = fail.startError(this.def, err, conn.failureOf(err), conn.stderr, this.ctx.redactor);
      this.breaker.recordFailure();
      throw this.lastError;
    } finally {
      this.opening = undefined;
    }
    if (this.stopped) {
      this.closeLater(conn);
      throw fail.stoppedError(this.def);
    }
    if (trial) {
      this.breaker.recordSuccess();
      this.restartsInARow = 0;
    }
    this.conn = conn;
    return conn;
  }

  private onExit(conn: ServerConnection): void {
    if (conn !== this.conn || this.stopped) return;
    this.lastError = fail.exitedError(this.def, undefined, conn.stderr, this.ctx.redactor);
    this.breaker.recordFailure();
    // Whatever the server left behind (its own children) is ended now, not at shutdown.
    this.closeLater(conn);
  }

  private closeLater(conn: ServerConnection): void {
    if (this.closings.has(conn)) return;
    const closing = conn.close();
    this.closings.set(conn, closing);
    void closing.finally(() => this.closings.delete(conn));
  }

  private classify(err: unknown, conn: ServerConnection, tool: string, timeoutMs: number, signal?: AbortSignal): OrchError {
    if (this.stopped) return fail.cancelledError(this.def, tool, 'orch is shutting down');
    if (signal?.aborted) {
      this.breaker.release();
      return fail.cancelledError(this.def, tool, signal.reason instanceof Error ? signal.reason.message : 'aborted');
    }
    if (conn.hasEnded) return fail.exitedError(this.def, tool, conn.stderr, this.ctx.redactor);
    if (conn.failureOf(err) === 'timeout') {
      this.breaker.recordFailure();
      return fail.timeoutError(this.def, tool, timeoutMs);
    }
    // The server answered with an error: it is alive and well.
    this.breaker.recordSuccess();
    return fail.toolError(this.def, tool, err, this.ctx.redactor);
  }
}
