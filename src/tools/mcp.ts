import type { McpHandler } from '../config/model.js';
import { ExitCode, OrchError } from '../errors.js';
import type { CallOptions, McpCallResult, McpCaller } from './context.js';
import { parseOutput, ToolError, type ToolResult } from './result.js';

/** Forwards an `mcp:` tool to its server's tool. */
export async function runMcp(
  handler: McpHandler,
  params: Record<string, unknown>,
  options: { tool: string; mcp?: McpCaller; signal?: AbortSignal; audited?: boolean; onProgress?: CallOptions['onProgress'] },
): Promise<ToolResult> {
  const result = await callServerTool(options.mcp, handler.server, handler.tool, params, options.signal, options.audited, options.onProgress);
  return fromMcpResult(options.tool, result);
}

/** Calls `server.tool`, or explains that no MCP servers are running here. */
export function callServerTool(
  mcp: McpCaller | undefined,
  server: string,
  tool: string,
  args: Record<string, unknown>,
  signal?: AbortSignal,
  audited?: boolean,
  onProgress?: CallOptions['onProgress'],
): Promise<McpCallResult> {
  if (!mcp) {
    throw new OrchError('ORCH_MCP_UNAVAILABLE', `cannot call ${server}.${tool}: MCP servers are not running in this command`, {
      exitCode: ExitCode.usage,
    });
  }
  return mcp.callTool(server, tool, args, { signal, audited, ...(onProgress && { onProgress }) });
}

/**
 * An MCP result as a tool result: its structured content when there is some, else its
 * text (parsed when it is a JSON object or array), else the content blocks. The blocks
 * are kept, so `orch serve` passes images and resources on unchanged.
 */
export function fromMcpResult(tool: string, result: McpCallResult): ToolResult {
  const content = result.content ?? [];
  // One loop, no arrays built: this runs for every server tool call.
  let text = '';
  let texts = 0;
  for (const block of content) {
    if (block.type !== 'text') continue;
    text = texts === 0 ? String(block.text ?? '') : `${text}\n${String(block.text ?? '')}`;
    texts += 1;
  }
  if (result.isError) {
    throw new ToolError(tool, `${tool} failed: ${text || 'the server reported an error'}`, { detail: { content } });
  }
  let value: unknown;
  if (result.structuredContent !== undefined) value = result.structuredContent;
  else if (texts === content.length) value = parseOutput(text);
  else value = content;
  const structured = result.structuredContent;
  return structured !== null && typeof structured === 'object' && !Array.isArray(structured) ? { value, content, structured: structured as Record<string, unknown> } : { value, content };
}
