import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** A tool's result as the SDK gives it: current, or legacy (`toolResult`). */
export type SdkCallResult = CallToolResult | { toolResult: unknown };

/** `content` tells the two apart. */
function hasContent(result: SdkCallResult): result is CallToolResult {
  return 'content' in result && Array.isArray(result.content);
}

/** A result as the current protocol shapes it. */
export function currentResult(result: SdkCallResult): CallToolResult {
  if (hasContent(result)) return result;
  // Servers of the 2024-10-07 protocol answer `toolResult`; present it as text content.
  return { content: [{ type: 'text', text: JSON.stringify(result.toolResult) }] };
}

