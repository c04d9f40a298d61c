import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { closest } from 'fastest-levenshtein';
import { ExitCode, OrchError } from '../errors.js';
import { McpErrorCode } from './failures.js';

/** A server tool as an agent sees it. `destructive`, `readOnly`: its MCP annotations say `destructiveHint: true`, `readOnlyHint: true`. */
export interface ServerToolInfo {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  destructive: boolean;
  readOnly: boolean;
}

/** A tool as a server provides it, with the name agents address it by. */
export interface ServerTool {
  server: string;
  /** `server.tool`: always unique. */
  qualifiedName: string;
  tool: Tool;
}

/**
 * Resolves the names users write — `server.tool`, or the bare tool name when exactly one
 * server provides it — to the server and tool they mean.
 */
export class ToolRegistry {
  private readonly byQualified = new Map<string, ServerTool>();
  private readonly byBare = new Map<string, ServerTool[]>();

  constructor(entries: Iterable<{ server: string; tools: Tool[] }>) {
    for (const { server, tools } of entries) {
      for (const tool of tools) {
        const entry: ServerTool = { server, qualifiedName: `${server}.${tool.name}`, tool };
        this.byQualified.set(entry.qualifiedName, entry);
        this.byBare.set(tool.name, [...(this.byBare.get(tool.name) ?? []), entry]);
      }
    }
  }

  all(): ServerTool[] {
    return [...this.byQualified.values()];
  }

  /** The tool `name` means, or undefined (unknown or ambiguous). */
  find(name: string): ServerTool | undefined {
    // A qualified name wins: a server may well call a tool `a.b`, and `srv.a.b` still works.
    const qualified = this.byQualified.get(name);
    if (qualified) return qualified;
    const bare = this.byBare.get(name);
    return bare?.length === 1 ? bare[0] : undefined;
  }

  /** Like find, but an unknown or ambiguous name is an error that says what to write. */
  resolve(name: string): ServerTool {
    const found = this.find(name);
    if (found) return found;
    const candidates = this.byBare.get(name) ?? [];
    if (candidates.length > 1) {
      throw new OrchError(McpErrorCode.ambiguousTool, `tool "${name}" is provided by several servers`, {
        hint: `write one of: ${candidates.map((c) => c.qualifiedName).join(', ')}`,
      });
    }
    const known = [...this.byQualified.keys(), ...this.byBare.keys()];
    const suggestion = known.length > 0 ? closest(name, known) : undefined;
    throw new OrchError(McpErrorCode.unknownTool, `no MCP server provides a tool "${name}"`, {
      hint: suggestion ? `did you mean "${suggestion}"? (\`orch mcp tools\` lists them all)` : 'run `orch mcp tools` to list them',
      exitCode: ExitCode.usage,
    });
  }
}
