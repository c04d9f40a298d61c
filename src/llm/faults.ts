import { setTimeout as sleep } from 'node:timers/promises';
import { APICallError, RetryError } from 'ai';
import { ExitCode, OrchError, isOrchError } from '../errors.js';
import type { Redactor } from '../secrets/redact.js';
import { llmError } from './errors.js';

/**
 * orch's own retries of a provider call (the SDK's are turned off). A 429, a 5xx or a
 * failed connection is tried again, at most `maxRetries` times and after at most
 * `maxWaitMs` of waiting in all. The wait is what the provider asks for (`retry-after-ms`,
 * else `retry-after` in seconds or as an HTTP date), else a backoff from `initialDelayMs`
 * doubling to `maxDelayMs`, less up to a quarter at random so parallel steps spread out.
 * A provider asking for more than the bound leaves fails at once rather than sleeping
 * past it. The AI SDK's own retry (v6) honours the same headers but only up to 60 s per
 * wait, with no bound on the total and a 2 s first backoff; hence this one.
 */
export const RETRY_BOUNDS = { maxRetries: 3, maxWaitMs: 30_000, initialDelayMs: 500, maxDelayMs: 8_000 } as const;

/** What the messages of a failed call say about it: no key value, ever. */
export interface CallDescription {
  /** e.g. `anthropic model claude-sonnet-4-5`. */
  what: string;
  apiKeyEnv?: string;
  baseURL?: string;
  /** Hides secrets in a provider's error text; asked for only when there is one. */
  redactor: () => Redactor;
}

export async function withRetries<T>(
  attempt: () => Promise<T>,
  call: CallDescription,
  options: { maxRetries?: number; signal?: AbortSignal },
): Promise<T> {
  const maxRetries = options.maxRetries ?? RETRY_BOUNDS.maxRetries;
  let waited = 0;
  for (let retry = 0; ; retry++) {
    if (options.signal?.aborted) throw cancelled(call);
    let fault: Transient;
    try {
      return await attempt();
    } catch (err) {
      if (options.signal?.aborted || isAbort(err)) throw cancelled(call);
      fault = classify(err, call);
    }
    const reason = call.redactor().redactString(fault.message);
    if (retry >= maxRetries) {
      throw llmError('ORCH_LLM_PROVIDER', `${call.what} still failing after ${retry} ${retry === 1 ? 'retry' : 'retries'}: ${reason}`, {
        hint: 'the provider is overloaded or unreachable; try again later',
      });
    }
    const delay = fault.retryAfterMs ?? backoff(retry);
    if (waited + delay > RETRY_BOUNDS.maxWaitMs) {
      const bound = `orch's bound of ${seconds(RETRY_BOUNDS.maxWaitMs)} of waiting`;
      const why =
        fault.retryAfterMs === undefined ? `another wait would pass ${bound}` : `the provider asks for ${seconds(delay)}, past ${bound}`;
      throw llmError('ORCH_LLM_PROVIDER', `${call.what}: ${reason}; ${why}`, {
        hint: 'the provider is rate-limiting or overloaded; try again later or lower the run\'s concurrency',
      });
    }
    try {
      await sleep(delay, undefined, { signal: options.signal });
    } catch {
      throw cancelled(call);
    }
    waited += delay;
  }
}

interface Transient {
  message: string;
  retryAfterMs?: number;
}

/** A fault worth another attempt, as such; anything else thrown as the OrchError it is. */
function classify(err: unknown, call: CallDescription): Transient {
  const error = RetryError.isInstance(err) ? err.lastError : err;
  if (isOrchError(error)) throw error;
  if (!APICallError.isInstance(error)) {
    if (error instanceof Error && error.name.startsWith('AI_')) {
      throw llmError('ORCH_LLM_RESPONSE', `${call.what} gave an answer orch cannot read: ${call.redactor().redactString(error.message)}`);
    }
    throw error;
  }
  const status = error.statusCode;
  if (status === 429 || (status !== undefined && status >= 500) || (status === undefined && error.isRetryable)) {
    const message = status === undefined ? error.message : `HTTP ${status}: ${error.message}`;
    const retryAfterMs = retryAfter(error.responseHeaders);
    return retryAfterMs === undefined ? { message } : { message, retryAfterMs };
  }
  throw refused(error, status, call);
}

function refused(error: APICallError, status: number | undefined, call: CallDescription): OrchError {
  const message = call.redactor().redactString(error.message);
  const hint =
    status === 401 || status === 403
      ? call.apiKeyEnv
        ? `check the key in ${call.apiKeyEnv}`
        : 'the server wants a key: set `api_key_env` on the model in `models:`'
      : status === 404
        ? `check the model name and the base URL (${call.baseURL ?? 'the provider\'s default'})`
        : undefined;
  const code = status === undefined ? '' : ` (HTTP ${status})`;
  return llmError('ORCH_LLM_REQUEST', `${call.what} refused the request${code}: ${message}`, hint ? { hint } : {});
}

/** The wait a response asks for, in ms, when it says. */
function retryAfter(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers['retry-after-ms'] ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after']?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number.parseFloat(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function backoff(retry: number): number {
  const full = Math.min(RETRY_BOUNDS.initialDelayMs * 2 ** retry, RETRY_BOUNDS.maxDelayMs);
  return Math.round(full * (1 - Math.random() * 0.25));
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

function cancelled(call: CallDescription): OrchError {
  return new OrchError('ORCH_CANCELLED', `the request to ${call.what} was cancelled`, { exitCode: ExitCode.sigint });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
