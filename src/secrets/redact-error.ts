import { ConfigError, isOrchError, OrchError } from '../errors.js';
import type { Redactor } from './redact.js';

/**
 * An error as it may be shown: its message, hint and issues with secrets replaced. An
 * error with nothing to hide is returned as it is; otherwise a copy with the same code,
 * exit code and location (the original stays its `cause`, never printed).
 */
export function redactError(err: unknown, redactor: Redactor): unknown {
  const r = (text: string): string => redactor.redactString(text);
  const hint = (text: string | undefined): string | undefined => (text === undefined ? undefined : r(text));
  if (err instanceof ConfigError) {
    const issues = err.issues.map((i) => ({ ...i, message: r(i.message), hint: hint(i.hint) }));
    if (issues.every((i, n) => i.message === err.issues[n]?.message && i.hint === err.issues[n]?.hint)) return err;
    return new ConfigError(issues, err.texts);
  }
  if (isOrchError(err)) {
    const message = r(err.message);
    if (message === err.message && hint(err.hint) === err.hint) return err;
    return new OrchError(err.code, message, { hint: hint(err.hint), location: err.location, exitCode: err.exitCode, cause: err });
  }
  if (err instanceof Error) {
    const message = r(err.message);
    const stack = err.stack === undefined ? undefined : r(err.stack);
    if (message === err.message && stack === err.stack) return err;
    const copy = new Error(message, { cause: err });
    copy.stack = stack;
    return copy;
  }
  return typeof err === 'string' ? r(err) : err;
}
