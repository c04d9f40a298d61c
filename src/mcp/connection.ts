import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type CallToolResult, type Progress, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerDef } from '../config/model.js';
import { recordProcess, type PidRegistration } from '../process/pid-registry.js';
import type { StopTimings } from '../process/stop.js';
import type { TransportFailure } from './failures.js';
import { newProcessTag, stdioPipes } from '../process/identity.js';
import { ProcessTree } from '../process/tree.js';
import { StderrTail } from './stderr-tail.js';
import { SpawnAwareStdioTransport, createTransport } from './transport.js';
import { packageVersion } from '../util/package-root.js';
import type { SdkCallResult } from './call-result.js';

/** A server that sends pages forever is broken; stop following its cursors. */
const MAX_TOOL_PAGES = 1000;

export interface ConnectionOptions {
  stateDir: string;
  parentEnv: NodeJS.ProcessEnv;
  /** The stages for what a stdio server leaves behind; the SDK's transport stops the server itself. */
  stopTimings: StopTimings;
  /** Called once when the server ends without orch asking it to. */
  onExit: () => void;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs: number;
  onProgress?: (progress: Progress) => void;
}

/**
 * The signal the SDK is given for one call. The SDK adds a listener to a call's signal and
 * never removes it: a run's or a session's signal, given to all their calls, would gather
 * one per call, each holding its request, and every call would cost more than the one
 * before. So each call gets a signal of its own, aborted with the caller's. It is the part
 * of AbortSignal the SDK's requests use (`aborted`, `reason`, `throwIfAborted`,
 * `addEventListener('abort')`), without an EventTarget behind it: making, listening to and
 * dropping a real AbortSignal cost more than the rest of orch's share of a call.
 * (test/unit/mcp/supervisor.test.ts aborts calls through it.)
 */
class CallSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] = [];

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  addEventListener(type: string, listener: () => void): void {
    if (type !== 'abort') return;
    if (this.aborted) queueMicrotask(listener);
    else this.listeners.push(listener);
  }

  removeEventListener(type: string, listener: () => void): void {
    if (type === 'abort') this.listeners = this.listeners.filter((l) => l !== listener);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}

/** The calls under way for each caller's signal; a caller's signal gets one listener, however many calls it is given to. */
class CallSignals {
  private readonly linked = new WeakMap<AbortSignal, Set<CallSignal>>();

  take(outer: AbortSignal): CallSignal {
    const own = new CallSignal();
    let calls = this.linked.get(outer);
    if (calls === undefined) {
      const under = new Set<CallSignal>();
      outer.addEventListener('abort', () => {
        for (const c of under) c.abort(outer.reason);
        under.clear();
      }, { once: true });
      this.linked.set(outer, under);
      calls = under;
    }
    calls.add(own);
    return own;
  }

  give(outer: AbortSignal, own: CallSignal): void {
    this.linked.get(outer)?.delete(own);
  }
}

const callSignals = new CallSignals();

/**
 * One live session with one server: the SDK client, the process tree behind it (stdio)
 * and its discovered tools. A connection is never reused after it ends; the supervisor
 * opens a new one to restart a server.
 */
export class ServerConnection {
  readonly stderr = new StderrTail();
  tools: Tool[] = [];
  /** Names of `tools`, for the per-call check that a tool exists. */
  toolNames: ReadonlySet<string> = new Set();
  private readonly client = new Client({ name: 'orch', version: packageVersion }, { capabilities: {} });
  private readonly transport: Transport;
  private tree: ProcessTree | undefined;
  private registration: PidRegistration | undefined;
  private closing: Promise<void> | undefined;
  private ended = false;

  constructor(
    readonly def: McpServerDef,
    private readonly options: ConnectionOptions,
  ) {
    const tag = newProcessTag();
    this.transport = createTransport(def, {
      parentEnv: options.parentEnv,
      stderr: this.stderr,
      tag,
      onSpawn: (id) => {
        // Whatever the server starts carries its tag or holds its pipes, however it
        // detaches: a double-forked child that keeps the pipes open would keep orch from
        // exiting, or outlive it.
        this.tree = new ProcessTree(id, { tag, pipes: stdioPipes(id.pid) });
        this.registration = recordProcess(options.stateDir, def.name, id, 'server', tag);
      },
    });
    this.client.onclose = () => {
      this.ended = true;
      if (!this.closing) options.onExit();
    };
    // Protocol noise (a malformed line on stdout...) is kept where a later error shows it.
    this.client.onerror = (err) => this.stderr.push(`[orch] ${err.message}\n`);
  }

  /** True once the server has gone away, asked to or not. */
  get hasEnded(): boolean {
    return this.ended;
  }

  get pid(): number | undefined {
    return this.tree?.root.pid;
  }

  /** What an error from this session's client says went wrong: a request that timed out, or a connection that closed. */
  failureOf(err: unknown): TransportFailure {
    if (!(err instanceof McpError)) return undefined;
    if (err.code === ErrorCode.RequestTimeout) return 'timeout';
    if (err.code === ErrorCode.ConnectionClosed) return 'closed';
    return undefined;
  }

  /** Initialises the session and lists every tool, all within `timeoutMs`. */
  async connect(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const remaining = () => Math.max(deadline - Date.now(), 1);
    await this.client.connect(this.transport, { timeout: remaining() });
    // Children a server starts at once (a wrapper script's real server) are remembered
    // now, while they can still be found from the server's pid, and recorded, so that
    // they are reaped even if the server exits before a killed orch's leftovers are.
    if (this.tree?.refresh()) this.registration?.setMembers(this.tree.all);
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await this.client.listTools(cursor === undefined ? {} : { cursor }, { timeout: remaining() });
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    this.tools = tools;
    this.toolNames = new Set(tools.map((t) => t.name));
  }

  /**
   * Calls `tool`, and settles the call with `answered` or `failed` (the caller's one step
   * after the call, so that no other is added: this runs for every call).
   */
  callTool<T>(tool: string, args: Record<string, unknown>, options: CallOptions, answered: (result: SdkCallResult) => T, failed: (err: unknown) => never): Promise<T> {
    const outer = options.signal;
    const request = { name: tool, arguments: args };
    if (outer === undefined || outer.aborted) return this.client.callTool(request, undefined, { signal: outer, timeout: options.timeoutMs, onprogress: options.onProgress }).then(answered, failed);
    const own = callSignals.take(outer);
    return this.client.callTool(request, undefined, { signal: own as unknown as AbortSignal, timeout: options.timeoutMs, onprogress: options.onProgress }).then(
      (result) => {
        callSignals.give(outer, own);
        return answered(result);
      },
      (err: unknown) => {
        callSignals.give(outer, own);
        return failed(err);
      },
    );
  }

  /**
   * Ends the session and the server's whole process tree. The SDK's stdio transport owns
   * the server's own process and stops it (end stdin → wait → SIGTERM → wait → SIGKILL);
   * orch then stops only what it leaves behind, the descendants recorded before the close.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  /** Last resort from a synchronous `exit` hook, when no owner can act: SIGKILL the whole tree. */
  killNow(): void {
    this.tree?.refresh();
    this.tree?.signalAll('SIGKILL');
  }

  private async shutDown(): Promise<void> {
    // Closed the moment it was started: its process is known (and recorded) only once it exists.
    if (this.transport instanceof SpawnAwareStdioTransport) await this.transport.spawned?.catch(() => {});
    const tree = this.tree;
    // Found now, while the server still runs: once it exits, its children cannot be found from it.
    tree?.refresh();
    try {
      if (this.transport instanceof StreamableHTTPClientTransport && !this.ended) {
        await this.transport.terminateSession().catch(() => {}); // the server may be gone already
      }
      const inputEnded = Date.now();
      await this.client.close().catch(() => {});
      if (tree) {
        // Their grace, like the server's, counts from the end of its input, not from now.
        const { graceMs, termMs } = this.options.stopTimings;
        await tree.stopLeftovers({ graceMs: Math.max(graceMs - (Date.now() - inputEnded), 0), termMs });
      }
    } finally {
      this.registration?.remove();
    }
  }
}
