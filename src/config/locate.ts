import type { ErrorCode } from '../error-codes.js';
import type { Issue, Severity } from '../errors.js';
import type { Origin } from './model.js';
import type { KeyPath, SourceFile } from './source.js';
import { formatKeyPath } from '../util/suggest.js';

/** A tool name as written in a file, with where it stands. */
export interface ToolReference {
  name: string;
  file: string;
  line?: number;
  column?: number;
  path?: string;
}

/** Builds issues that point into the user's files. */
export class IssueSink {
  readonly issues: Issue[] = [];
  /**
   * Tools that were declared but left out of the model for an error of their own; rules
   * that meet their names stay quiet rather than call them unknown.
   */
  readonly brokenTools = new Set<string>();
  /** Tool names only a running MCP server can confirm, where they were written (for `validate --connect`). */
  readonly unverifiedTools: ToolReference[] = [];

  constructor(private readonly sources: Map<string, SourceFile>) {}

  /** A sink over the same files with issues of its own, for problems that may be set aside (a server's). */
  fork(): IssueSink {
    return new IssueSink(this.sources);
  }

  source(file: string): SourceFile | undefined {
    return this.sources.get(file);
  }

  /** The raw value at an origin, as parsed (before normalisation). */
  valueAt(where: Origin): unknown {
    let value: unknown = this.sources.get(where.file)?.data;
    for (const segment of where.path) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string | number, unknown>)[segment];
    }
    return value;
  }

  add(
    severity: Severity,
    code: ErrorCode,
    where: Origin,
    message: string,
    options: { hint?: string; key?: boolean; sub?: KeyPath } = {},
  ): void {
    const keyPath = [...where.path, ...(options.sub ?? [])];
    const source = this.sources.get(where.file);
    const span = source?.locate(keyPath, { key: options.key });
    this.issues.push({
      severity,
      code,
      message,
      file: source?.display ?? where.file,
      line: span?.line,
      column: span?.column,
      endLine: span?.endLine,
      endColumn: span?.endColumn,
      path: formatKeyPath(keyPath),
      hint: options.hint,
    });
  }

  error(code: ErrorCode, where: Origin, message: string, options?: { hint?: string; key?: boolean; sub?: KeyPath }): void {
    this.add('error', code, where, message, options);
  }

  warn(code: ErrorCode, where: Origin, message: string, options?: { hint?: string; key?: boolean; sub?: KeyPath }): void {
    this.add('warning', code, where, message, options);
  }

  /** Warns that `name` is a tool only an MCP server could provide, and remembers where it stands. */
  unverified(name: string, where: Origin, message: string): void {
    this.warn('ORCH_TOOL_UNVERIFIED', where, message, { hint: 'run `orch validate --connect` to check it against the servers' });
    const issue = this.issues[this.issues.length - 1];
    if (issue) this.unverifiedTools.push({ name, file: issue.file, line: issue.line, column: issue.column, path: issue.path });
  }
}

/** A child origin: the same file, one path deeper. */
export function under(origin: Origin, ...sub: KeyPath): Origin {
  return { file: origin.file, path: [...origin.path, ...sub] };
}
