import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
// The global `performance` is a lazy getter in Node 20, paid for on every read: import it once.
import { performance } from 'node:perf_hooks';
import type { Redactor } from '../secrets/redact.js';
import { isoTime } from '../util/iso-time.js';

export type AuditOutcome = 'ok' | 'tool_error' | 'error';

/** One tool call as `.orch/audit.jsonl` records it. */
export interface AuditEntry {
  /** When the call was sent: milliseconds since the epoch (written as ISO time), or ISO time. */
  time: number | string;
  server: string;
  tool: string;
  arguments: unknown;
  durationMs: number;
  outcome: AuditOutcome;
  /** For outcome `error`: the stable error code and its message. */
  error?: { code: string; message: string };
  /** How the tool is handled (`script`, `http`, `module`, `mcp`, `server`); absent on a direct server call. */
  kind?: string;
  /** The run, step, task, agent and instance the call was made for, when it was made for one. */
  ids?: object;
}

/**
 * One call's audit entry while the call is under way: timed from when it was made (or from
 * `restart`, when it is dispatched), recorded in the log by `end`. One object per call and
 * no closures, since this runs for every call; the supervisor and the agent runtime each
 * say how their calls end.
 */
export class PendingAudit implements AuditEntry {
  time = Date.now();
  durationMs = 0;
  outcome: AuditOutcome = 'ok';
  error?: { code: string; message: string };
  kind?: string;
  ids?: object;
  readonly arguments: unknown;
  private started = performance.now();

  constructor(
    private readonly log: AuditLog,
    readonly server: string,
    readonly tool: string,
    args: unknown,
  ) {
    this.arguments = args;
  }

  /** Times the call from now. */
  protected restart(): void {
    this.time = Date.now();
    this.started = performance.now();
  }

  protected end(outcome: AuditOutcome, error?: { code: string; message: string }): void {
    this.durationMs = Math.round((performance.now() - this.started) * 1000) / 1000;
    this.outcome = outcome;
    if (error) this.error = error;
    this.log.record(this);
  }
}

/** Lines wait at most this long before they reach the file. */
const FLUSH_DELAY_MS = 25;
/** Lines held before they are written, however soon that is: memory stays bounded. */
const MAX_PENDING = 1000;
const MAX_CACHED_TOOLS = 1000;

/** Each outcome as JSON, ready to splice into a line. */
const OUTCOME_JSON: Record<AuditOutcome, string> = { ok: '"ok"', tool_error: '"tool_error"', error: '"error"' };

/** Logs with lines not written yet; one `exit` hook for all of them, however many logs a process makes. */
const unflushed = new Set<AuditLog>();
let exitHookInstalled = false;

function flushOnExit(log: AuditLog): void {
  unflushed.add(log);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pending of unflushed) pending.flush();
  });
}

/**
 * The append-only audit log of tool calls. Everything passes the redactor before it is
 * written. Entries are batched and appended synchronously, one write per batch: a write
 * per call would cost more CPU than the call itself, and a synchronous batch leaves
 * nothing half-written when the process exits (the `exit` hook flushes what is left).
 *
 * An entry's line is built when its batch is written, not when it is recorded: built one
 * after another, with the code and data at hand, lines cost a fraction of what each costs
 * built between two calls' I/O, where it was the larger part of orch's share of a call.
 * So an entry's arguments must not change once it is recorded; callers pass the arguments
 * the tool was given, and the agent runtime gives user code's calls a copy of their own.
 */
export class AuditLog {
  /** Entries not written yet. */
  private pending: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly serialisedNames = new Map<string, Map<string, string>>();
  /** The last time serialised, and its JSON: calls made within the same millisecond share it. */
  private lastTime = '';
  private lastTimeJson = '""';
  private lastTimeMs = Number.NaN;
  private lastTimeMsJson = '""';

  constructor(
    readonly file: string,
    private readonly redactor: Redactor,
  ) {}

  record(entry: AuditEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= MAX_PENDING) this.flush();
    else if (!this.timer) {
      flushOnExit(this);
      // unref'd: a pending flush must not keep orch alive; the exit hook writes it instead.
      this.timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
    }
  }

  /** Writes every pending line now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    unflushed.delete(this);
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    let text = '';
    for (const entry of entries) text += this.safeLine(entry);
    try {
      appendLine(this.file, text);
    } catch (err) {
      // A full disk must not fail a run; the call's own result still reaches the caller.
      process.emitWarning(`orch: cannot write ${this.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async close(): Promise<void> {
    this.flush();
  }

  /** The entry's line; one whose arguments cannot be serialised (a BigInt...) is written without them, saying so. */
  private safeLine(entry: AuditEntry): string {
    try {
      return this.line(entry);
    } catch (err) {
      const reason = `arguments not recorded: ${err instanceof Error ? err.message : String(err)}`;
      return this.line({ ...entry, arguments: reason });
    }
  }

  /**
   * The entry as one JSON line: the text `JSON.stringify` gives the redacted entry, field for
   * field and in order, built by hand at a fraction of the cost of serialising the entry
   * object, since this runs for every tool call. A new field of AuditEntry must be added here
   * too (test/unit/mcp/audit-line.test.ts compares the two).
   */
  private line(entry: AuditEntry): string {
    const args = this.redactor.redactJson(entry.arguments);
    const error = entry.error && JSON.stringify({ code: entry.error.code, message: this.redactor.redactString(entry.error.message) });
    const outcome = OUTCOME_JSON[entry.outcome] ?? JSON.stringify(entry.outcome);
    return (
      `{"time":${this.timeJson(entry.time)},${this.names(entry.server, entry.tool)}` +
      `${entry.kind === undefined ? '' : kindJson(entry.kind)}${entry.ids === undefined ? '' : idsJson(entry.ids)}` +
      `${args === undefined ? '' : `,"arguments":${args}`},"durationMs":${durationJson(entry.durationMs)}` +
      `,"outcome":${outcome}${error === undefined ? '' : `,"error":${error}`}}\n`
    );
  }

  private timeJson(time: number | string): string {
    if (typeof time === 'number') {
      if (time !== this.lastTimeMs) {
        this.lastTimeMs = time;
        this.lastTimeMsJson = JSON.stringify(isoTime(time));
      }
      return this.lastTimeMsJson;
    }
    if (time !== this.lastTime) {
      this.lastTime = time;
      this.lastTimeJson = JSON.stringify(time);
    }
    return this.lastTimeJson;
  }

  /** `"server":…,"tool":…`, serialised once per pair: the same few repeat on every call. */
  private names(server: string, tool: string): string {
    let tools = this.serialisedNames.get(server);
    if (!tools) {
      tools = new Map();
      this.serialisedNames.set(server, tools);
    }
    let text = tools.get(tool);
    if (text === undefined) {
      text = `"server":${JSON.stringify(server)},"tool":${JSON.stringify(tool)}`;
      // Bounded: names of tools that do not exist (typos) are audited too.
      if (tools.size < MAX_CACHED_TOOLS) tools.set(tool, text);
    }
    return text;
  }
}

/** Appends to `file`, creating its directory the first time (or after someone removed it). */
function appendLine(file: string, text: string): void {
  try {
    appendFileSync(file, text);
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, text);
  }
}

/**
 * A duration as JSON writes it, for one rounded to the microsecond (as the supervisor's
 * are): whole and thousandths formatted as integers, which is cheaper than a double's
 * shortest round-trip form and gives the same text. Any other number takes JSON.stringify.
 */
function durationJson(ms: number): string {
  const micros = Math.round(ms * 1000);
  if (micros / 1000 !== ms || !Number.isSafeInteger(micros) || micros < 0) return JSON.stringify(ms);
  const whole = Math.floor(micros / 1000);
  let fraction = micros - whole * 1000;
  if (fraction === 0) return String(whole);
  let digits = 3;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits -= 1;
  }
  return `${whole}.${String(fraction).padStart(digits, '0')}`;
}

/** `,"kind":…`, serialised once per kind: there are a handful. */
const kindsJson = new Map<string, string>();
function kindJson(kind: string): string {
  let text = kindsJson.get(kind);
  if (text === undefined) {
    text = `,"kind":${JSON.stringify(kind)}`;
    if (kindsJson.size < MAX_CACHED_TOOLS) kindsJson.set(kind, text);
  }
  return text;
}

/** `,"run":` and the like: the ids' keys are a handful too. */
const idKeysJson = new Map<string, string>();

/** The ids of an entry as top-level keys of its line (`,"run":…,"step":…`), leaving out those not set. */
function idsJson(ids: object): string {
  let text = '';
  const record = ids as Record<string, unknown>; // read as a plain record: only own keys are written
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) continue;
    let keyJson = idKeysJson.get(key);
    if (keyJson === undefined) {
      keyJson = `,${JSON.stringify(key)}:`;
      if (idKeysJson.size < MAX_CACHED_TOOLS) idKeysJson.set(key, keyJson);
    }
    text += keyJson + JSON.stringify(value);
  }
  return text;
}
