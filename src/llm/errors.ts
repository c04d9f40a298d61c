import type { ErrorCode } from '../error-codes.js';
import { OrchError, type SourceLocation } from '../errors.js';

/** The codes the provider layer throws; each is in the registry (src/error-codes.ts) with its exit code and retryability. */
export type LlmErrorCode = Extract<
  ErrorCode,
  'ORCH_LLM_REQUEST' | 'ORCH_LLM_PROVIDER' | 'ORCH_LLM_RESPONSE' | 'ORCH_MODEL_UNKNOWN' | 'ORCH_REPLAY_MISS' | 'ORCH_REPLAY_CORRUPT' | 'ORCH_CANCELLED'
>;

/** An OrchError of the provider layer; the registry gives its exit code. */
export function llmError(code: LlmErrorCode, message: string, options: { hint?: string; location?: SourceLocation } = {}): OrchError {
  return new OrchError(code, message, options);
}
