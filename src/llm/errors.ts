import { ExitCode, OrchError, type SourceLocation } from '../errors.js';

/**
 * Error codes of the provider layer, each with its exit code, whether another attempt may
 * succeed, and one line of doc — ready to move into the central registry. `ORCH_CANCELLED`
 * is not new: chat() reuses it for an aborted request, as the engine does.
 */
export const LLM_ERROR_CODES = {
  /** The provider refused the request (a 4xx other than 429: bad key, unknown model, bad request); the message is the provider's. */
  ORCH_LLM_REQUEST: { exitCode: ExitCode.runFailed, retryable: false },
  /** The provider kept failing (429, 5xx, no connection) past orch's bounded retries, or asked to wait longer than they allow. */
  ORCH_LLM_PROVIDER: { exitCode: ExitCode.runFailed, retryable: true },
  /** The provider's answer could not be read (no such content, malformed tool call envelope...). */
  ORCH_LLM_RESPONSE: { exitCode: ExitCode.runFailed, retryable: true },
  /** An agent's model names no provider orch knows and no `models:` entry, or lacks the base URL its provider needs. */
  ORCH_MODEL_UNKNOWN: { exitCode: ExitCode.usage, retryable: false },
  /** `--replay`: a request has no recording in the cassette directory; the message names the step and turn. */
  ORCH_REPLAY_MISS: { exitCode: ExitCode.runFailed, retryable: false },
  /** `--replay`: a recording file exists but cannot be read as one. */
  ORCH_REPLAY_CORRUPT: { exitCode: ExitCode.runFailed, retryable: false },
} as const;

export type LlmErrorCode = keyof typeof LLM_ERROR_CODES;

/** An OrchError with one of the codes above, carrying the exit code the list gives it. */
export function llmError(code: LlmErrorCode, message: string, options: { hint?: string; location?: SourceLocation } = {}): OrchError {
  return new OrchError(code, message, { ...options, exitCode: LLM_ERROR_CODES[code].exitCode });
}
