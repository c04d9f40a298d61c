import path from 'node:path';
import { isOrchError } from '../errors.js';
import { AuditLog, PendingAudit } from '../mcp/audit.js';
import { secretsRedactor, type Redactor, type SecretSource } from '../secrets/redact.js';
import { ToolError, type ToolResult } from '../tools/result.js';
import { captureContent, currentTraceIds, inSpan, tracingOn } from '../util/tracing.js';

/** Which work a tool call belongs to; every audit line carries them. */
export interface CallIds {
  run?: string;
  step?: string;
  attempt?: number;
  task?: string;
  subtask?: string;
  /** The agent type (role) making the call. */
  agent?: string;
  /** The leased instance of that type, e.g. `worker-2`. */
  instance?: string;
}

/** One tool call as the chain sees it. `kind` is the handler kind, `server` for a tool of an MCP server, `a2a` for a remote agent's task. */
export interface ToolCall {
  tool: string;
  kind: 'script' | 'http' | 'module' | 'mcp' | 'server' | 'a2a';
  args: Record<string, unknown>;
  ids: CallIds;
}

export type CallNext = (call: ToolCall) => Promise<ToolResult>;

/**
 * A link around every tool call, in the manner of Temporal's activity interceptors:
 * it may look at or change the call, call `next`, and look at or change the result.
 */
export type Interceptor = (call: ToolCall, next: CallNext) => Promise<ToolResult>;

/** Runs `call` through the links, outermost first, ending in `last`. */
export function runChain(links: readonly Interceptor[], call: ToolCall, last: CallNext): Promise<ToolResult> {
  const step = (i: number): CallNext => {
    const link = links[i];
    return link === undefined ? last : (c) => link(c, step(i + 1));
  };
  return step(0)(call);
}

const logs = new Map<string, AuditLog>();

/** The audit log of a state dir, one per process, so every caller's lines share one batch. */
export function auditLogFor(stateDir: string, redactor: Redactor): AuditLog {
  const file = path.join(stateDir, 'audit.jsonl');
  let log = logs.get(file);
  if (!log) {
    log = new AuditLog(file, redactor);
    logs.set(file, log);
  }
  return log;
}

/**
 * Records every tool call of every kind in `.orch/audit.jsonl`: the tool, how it was
 * handled, its arguments (redacted by the log), duration, outcome, and the run, step,
 * task, agent and instance it was made for.
 */
export function auditInterceptor(log: AuditLog): Interceptor {
  // A plain promise chain, not an async function, and one object per call: this runs for every tool call.
  return (call, next) => {
    const audit = new AuditedToolCall(log, call);
    let pending: Promise<ToolResult>;
    try {
      pending = next(call);
    } catch (err) {
      return Promise.reject(audit.failed(err));
    }
    return pending.then(
      (result) => audit.answered(result),
      (err: unknown) => {
        throw audit.failed(err);
      },
    );
  };
}

/** One tool call's audit entry, recorded once the call ends. */
class AuditedToolCall extends PendingAudit {
  constructor(log: AuditLog, call: ToolCall) {
    super(log, call.kind === 'server' ? serverOf(call.tool) : '', call.tool, call.args);
    this.kind = call.kind;
    // Under tracing, the line names the trace and the tool call's span.
    const trace = currentTraceIds();
    this.ids = trace.trace_id === undefined ? call.ids : { ...call.ids, ...trace };
  }

  answered(result: ToolResult): ToolResult {
    this.end('ok');
    return result;
  }

  /** Records the failure; gives the error back, to be thrown on. */
  failed(err: unknown): unknown {
    this.end(err instanceof ToolError ? 'tool_error' : 'error', isOrchError(err) ? { code: err.code, message: err.message } : { code: 'ORCH_INTERNAL', message: String(err) });
    return err;
  }
}

/** The server part of `server.tool` (all of a name without a dot). */
function serverOf(tool: string): string {
  const dot = tool.indexOf('.');
  return dot === -1 ? tool : tool.slice(0, dot);
}

/**
 * A span per tool call when tracing is on (GenAI's `execute_tool`): the tool, how it is
 * handled, its server, the work it was made for and its outcome; its arguments only when
 * content capture is asked, redacted. Outermost, so the audit line names its span.
 */
export function tracingInterceptor(redactor: Redactor, env: NodeJS.ProcessEnv = process.env): Interceptor {
  const capture = captureContent(env);
  return (call, next) => {
    if (!tracingOn()) return next(call);
    const attributes = {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': call.tool,
      'orch.tool.kind': call.kind,
      'orch.tool.server': call.kind === 'server' ? call.tool.split('.')[0] : undefined,
      'orch.run.id': call.ids.run,
      'orch.step.id': call.ids.step,
      'orch.task.id': call.ids.task,
      'orch.subtask.id': call.ids.subtask,
      'orch.agent.type': call.ids.agent,
      'orch.agent.instance': call.ids.instance,
      'orch.tool.arguments': capture ? redactor.redactJson(call.args) : undefined,
    };
    return inSpan(`execute_tool ${call.tool}`, attributes, async (span) => {
      try {
        const result = await next(call);
        span.set({ 'orch.outcome': 'ok' });
        return result;
      } catch (err) {
        span.set({ 'orch.outcome': err instanceof ToolError ? 'tool_error' : 'error', 'error.type': isOrchError(err) ? err.code : 'ORCH_INTERNAL' });
        throw err;
      }
    });
  };
}

/** The links every tool call passes by default: a span when tracing, and the audit log of the state dir, redacting the project's secrets. */
export function defaultInterceptors(stateDir: string, servers: Iterable<SecretSource>, env: NodeJS.ProcessEnv = process.env): Interceptor[] {
  const redactor = secretsRedactor(env, servers);
  return [tracingInterceptor(redactor, env), auditInterceptor(auditLogFor(stateDir, redactor))];
}
