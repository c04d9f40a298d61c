import type { ErrorCode } from '../error-codes.js';
import { ExitCode, OrchError } from '../errors.js';

/**
 * MCP content blocks, kept structural so this module does not depend on the SDK's types;
 * results forwarded from an MCP server carry them unchanged.
 */
export interface ContentBlock {
  type: string;
  [key: string]: unknown;
}

/** What a tool returned. */
export interface ToolResult {
  /** The result as data: parsed JSON, text, or whatever a module handler returned. */
  value: unknown;
  /** The original MCP content when the result came from an MCP server. */
  content?: ContentBlock[];
  /** The server's `structuredContent`, kept as it came so `orch serve` forwards it unchanged. */
  structured?: Record<string, unknown>;
}

/** What a failed tool left behind, for the user and for gates. */
export interface ToolFailureDetail {
  /** Exit code of a script, when it exited. */
  exitCode?: number;
  stderr?: string;
  stdout?: string;
  /** HTTP status of an http tool. */
  status?: number;
  body?: unknown;
  /** Content of an MCP result marked `isError`. */
  content?: ContentBlock[];
}

/**
 * A tool ran and failed: a non-zero exit, an HTTP error status, an MCP `isError` result,
 * a timeout or an exception thrown by a module handler. It fails the run (exit 1), as
 * opposed to OrchErrors about the call itself (bad input, unknown tool: exit 2).
 */
export class ToolError extends OrchError {
  readonly tool: string;
  readonly detail: ToolFailureDetail;

  constructor(
    tool: string,
    message: string,
    options: { code?: ErrorCode; detail?: ToolFailureDetail; hint?: string; cause?: unknown } = {},
  ) {
    super(options.code ?? 'ORCH_TOOL_FAILED', message, {
      // A tool that was called fails the run (1) whatever its code: a header value it
      // refuses (ORCH_INPUT) or a call cancelled under it (ORCH_CANCELLED) included.
      exitCode: ExitCode.runFailed,
      hint: options.hint,
      cause: options.cause,
    });
    this.name = 'ToolError';
    this.tool = tool;
    this.detail = options.detail ?? {};
  }
}

/** The text of a value for people and MCP clients: strings as they are, data as JSON. */
export function resultText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2) ?? '';
}

/**
 * Tool output text as data: a JSON object or array is parsed, anything else stays text
 * (one trailing newline removed). Bare JSON scalars stay text so that a script printing
 * `007` or `true` is not silently turned into a number or boolean.
 */
export function parseOutput(text: string): unknown {
  const trimmed = text.trim();
  if ((trimmed.startsWith('{') && trimmed.endsWith('}')) || (trimmed.startsWith('[') && trimmed.endsWith(']'))) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      // Not JSON after all (e.g. a shell `[ ... ]` transcript): keep the text.
    }
  }
  return text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
}
