import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Project } from '../config/model.js';
import { ExitCode, OrchError } from '../errors.js';
import type { Supervisor } from '../mcp/supervisor.js';
import { suggestOr } from '../util/suggest.js';

/** Asks the client's user a yes/no question; undefined when the client cannot be asked. */
export type Confirm = (message: string) => Promise<boolean | undefined>;

/**
 * The MCP servers `orch serve --expose` re-serves: their tools as `<server>.<tool>`, with
 * the upstream descriptions, schemas (input and output) and annotations. The calls go
 * through orch's agent runtime like any other (audit log, rate limits, redaction), and a
 * tool the server lists under `approval_required` is called only once a person said yes.
 */
export class Gateway {
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly project: Project,
    private readonly supervisor: Supervisor,
    servers: readonly string[],
  ) {
    this.names = new Set(servers);
  }

  /** The exposed server a tool name belongs to, if any. */
  serverOf(name: string): string | undefined {
    const dot = name.indexOf('.');
    const server = dot > 0 ? name.slice(0, dot) : undefined;
    return server !== undefined && this.names.has(server) ? server : undefined;
  }

  /** The exposed servers' tools, starting the servers not running yet; a server that does not start is left out. */
  async list(): Promise<Tool[]> {
    const registry = await this.supervisor.registry([...this.names]).catch(() => this.supervisor.runningTools());
    return registry
      .all()
      .filter((t) => this.names.has(t.server))
      .map(({ qualifiedName, tool }) => ({
        ...tool,
        name: qualifiedName,
        description: tool.description || tool.title || qualifiedName,
      }));
  }

  /** Whether a person must approve each call of the tool (its server's `approval_required`). */
  needsApproval(name: string): boolean {
    const server = this.serverOf(name);
    if (server === undefined) return false;
    return this.project.servers.get(server)?.approvalRequired?.includes(name.slice(server.length + 1)) ?? false;
  }

  /** The refusal of a call that needs approval the client did not (or could not) give. */
  static refused(name: string, asked: boolean | undefined): CallToolResult {
    const text =
      asked === undefined
        ? `${name} needs a person's approval (approval_required), and this client cannot be asked (it declares no elicitation)`
        : `a person rejected the call of ${name}`;
    return { isError: true, content: [{ type: 'text', text }] };
  }
}

/** The servers named by `--expose` and gantz.yaml's `serve.expose`, each one configured. */
export function exposedServers(project: Project, flag: string | undefined): string[] {
  const names = [...new Set([...(project.serveExpose ?? []), ...(flag ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')])];
  for (const name of names) {
    if (!project.servers.has(name)) {
      throw new OrchError('ORCH_UNKNOWN_SERVER', `--expose names unknown MCP server \`${name}\``, {
        hint: suggestOr(name, [...project.servers.keys()], 'declare it under `mcpServers` (gantz.yaml, agent-team.yaml or .mcp.json)'),
        exitCode: ExitCode.usage,
      });
    }
  }
  return names;
}
