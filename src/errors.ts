import { exitCodeOf, type ErrorCode } from './error-codes.js';

/** Where a problem sits in a file the user wrote. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** Last line/column of the offending node, for a caret under the whole value. */
  endLine?: number;
  endColumn?: number;
  /** Key path inside the file, e.g. `workflows.deploy[2].gate`. */
  path?: string;
}

export type Severity = 'error' | 'warning';

/** One problem found in a user's configuration, and where it stands. */
export interface Issue extends SourceLocation {
  severity: Severity;
  code: ErrorCode;
  message: string;
  hint?: string;
}

/** Exit codes of the CLI contract (DESIGN.md section 2). */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  paused: 3,
  sigint: 130,
  sigterm: 143,
} as const;

/**
 * The one error class orch throws for problems a user can act on. `code` is stable
 * (`ORCH_*`, one of ERROR_CODES) and never changes once shipped; `hint` says how to fix
 * it. The exit code is the code's own, unless a call site gives another.
 */
export class OrchError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly exitCode: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; location?: SourceLocation; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OrchError';
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
    this.exitCode = options.exitCode ?? exitCodeOf(code);
  }
}

/** Configuration that failed to load: every problem found, collected in one pass. */
export class ConfigError extends OrchError {
  readonly issues: Issue[];
  /** Text of each file the issues point into, by displayed name, for code frames. */
  readonly texts: ReadonlyMap<string, string>;

  constructor(issues: Issue[], texts: ReadonlyMap<string, string> = new Map()) {
    const errors = issues.filter((i) => i.severity === 'error');
    const first = errors[0];
    super(
      first?.code ?? 'ORCH_CONFIG',
      errors.length === 1 && first ? first.message : `${errors.length} problems in the configuration`,
      // A configuration that does not load is a config error (2), whichever issue comes
      // first: `validate --connect` reports ORCH_SERVER_START, a run failure elsewhere.
      { exitCode: ExitCode.usage },
    );
    this.name = 'ConfigError';
    this.issues = issues;
    this.texts = texts;
  }
}

export function isOrchError(err: unknown): err is OrchError {
  return err instanceof OrchError;
}
