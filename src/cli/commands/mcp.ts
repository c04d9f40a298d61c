import chalk from 'chalk';
import { Command } from 'commander';
import type { CallToolResult, Progress, Tool } from '@modelcontextprotocol/sdk/types.js';
import { loadProject } from '../../config/load.js';
import type { Project, ServerTransport } from '../../config/model.js';
import { displayPath } from '../../config/source.js';
import { ConfigError, ExitCode, OrchError } from '../../errors.js';
import { formatJsonProblem, parseJsonText } from '../../util/json-text.js';
import { formatKeyPath } from '../../util/suggest.js';
import { formatIssue } from '../ui/report.js';
import { checkInputDepth } from '../../util/json-depth.js';
import { Supervisor, type StartOutcome } from '../../mcp/supervisor.js';
import type { ServerTool } from '../../mcp/tool-registry.js';
import { resolveStateDir } from '../../state/state-dir.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { withShutdownHandlers } from '../signals.js';

interface CallFlags {
  args?: string;
}

/**
 * `orch mcp list | tools [server] | call <server> <tool> --args '<json>'`: one module for
 * the three subcommands, told apart by the name commander passes in.
 */
export async function run(globals: GlobalOptions, ...args: unknown[]): Promise<number> {
  const command = args.at(-1);
  if (!(command instanceof Command)) throw new Error('orch mcp: commander passed no command');
  const io = processIo;
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const supervisor = new Supervisor(project.servers.values(), { stateDir: resolveStateDir(project.dir) });
  const server = typeof args[0] === 'string' ? args[0] : undefined;
  if (server !== undefined && command.name() !== 'list') refuseDisabled(project, server);
  return withShutdownHandlers(supervisor, async () => {
    switch (command.name()) {
      case 'list':
        return list(supervisor, project, globals, io);
      case 'tools':
        return tools(supervisor, server, globals, io);
      case 'call':
        return call(supervisor, String(args[0]), String(args[1]), command.opts<CallFlags>(), globals, io);
      default:
        throw new Error(`orch mcp: no subcommand ${command.name()}`);
    }
  });
}

/** A server declared with `disabled: true` is named in `list` only; asking for it is an error. */
function refuseDisabled(project: Project, server: string): void {
  const disabled = project.disabledServers?.get(server);
  if (!disabled) return;
  throw new OrchError('ORCH_SERVER_DISABLED', `MCP server \`${server}\` is disabled (\`disabled: true\`)`, {
    location: { file: displayPath(disabled.origin.file, project.dir), path: formatKeyPath(disabled.origin.path) },
    hint: 'remove `"disabled": true` from its entry to use it',
  });
}

async function list(supervisor: Supervisor, project: Project, globals: GlobalOptions, io: Io): Promise<number> {
  const outcomes = await supervisor.start();
  const rows = [...serverRows(supervisor, outcomes), ...disabledRows(project)];
  if (globals.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (rows.length === 0) io.stdout.write('no MCP servers are configured (mcpServers in gantz.yaml, agent-team.yaml or .mcp.json)\n');
  else io.stdout.write(formatServers(rows, globals.color));
  if (!globals.json) for (const o of outcomes) if (!o.ok) writeFailure(supervisor, o.error, globals, io);
  return exitOf(outcomes);
}

/** A failed start on stderr: a server's own config errors at file:line:col, other failures as their message. */
function writeFailure(supervisor: Supervisor, error: OrchError, globals: GlobalOptions, io: Io): void {
  const text = error instanceof ConfigError ? error.issues.map((i) => formatIssue(i, error.texts, globals.color)).join('\n') : error.message;
  io.stderr.write(`\n${supervisor.redactor.redactString(text)}\n`);
}

/** 0 when every server started; else the exit code of the first failure (2 for a config error, 1 for a start failure). */
function exitOf(outcomes: StartOutcome[]): number {
  const failed = outcomes.find((o) => !o.ok);
  return failed && !failed.ok ? failed.error.exitCode : ExitCode.ok;
}

async function tools(supervisor: Supervisor, server: string | undefined, globals: GlobalOptions, io: Io): Promise<number> {
  const names = server === undefined ? undefined : [supervisor.server(server).def.name];
  const outcomes = await supervisor.start(names);
  const failed = outcomes.filter((o) => !o.ok);
  const only = outcomes.length === 1 ? outcomes[0] : undefined;
  if (server !== undefined && only && !only.ok) throw only.error;
  const rows = toolRows(supervisor.runningTools().all(), server);
  if (globals.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else io.stdout.write(formatTools(rows, globals.color));
  for (const o of failed) if (!o.ok) writeFailure(supervisor, o.error, globals, io);
  return exitOf(outcomes);
}

function parseArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    throw new OrchError('ORCH_INPUT', formatJsonProblem('--args', text, parsed.problem), {
      hint: parsed.problem.hint ?? `quote it for the shell: --args '{"message": "hi"}'`,
    });
  }
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OrchError('ORCH_INPUT', '--args must be a JSON object of arguments');
  }
  checkInputDepth(value, '--args');
  return { ...value };
}

async function call(
  supervisor: Supervisor,
  server: string,
  tool: string,
  flags: CallFlags,
  globals: GlobalOptions,
  io: Io,
): Promise<number> {
  const args = parseArgs(flags.args);
  const showProgress = !globals.quiet && io.stderr.isTTY === true;
  const onProgress = (p: Progress) => {
    const of = p.total === undefined ? '' : `/${p.total}`;
    io.stderr.write(`${server}.${tool}: ${p.progress}${of}${p.message ? ` ${p.message}` : ''}\n`);
  };
  const called = await supervisor.callTool(server, tool, args, showProgress ? { onProgress } : {});
  // The server got the arguments as given; what it answers is shown with secrets hidden, those given included.
  supervisor.redactor.learn(args);
  const result = supervisor.redactor.redact(called) as typeof called; // redaction keeps the shape of a JSON value
  if (globals.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout.write(resultText(result));
  return result.isError === true ? ExitCode.runFailed : ExitCode.ok;
}

/** A result for people: text blocks as they are, other blocks as a one-line summary. */
function resultText(result: CallToolResult): string {
  const parts = result.content.map((block) => {
    switch (block.type) {
      case 'text':
        return block.text;
      case 'image':
      case 'audio':
        return `[${block.type} ${block.mimeType}, ${Math.round((block.data.length * 3) / 4)} bytes]`;
      case 'resource':
        return `[resource ${block.resource.uri}]`;
      case 'resource_link':
        return `[resource link ${block.uri}]`;
    }
  });
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent, null, 2));
  const text = parts.join('\n');
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

/** One server as `orch mcp list` shows it (and prints with --json); errors are redacted of secrets. */
interface ServerRow {
  name: string;
  transport: ServerTransport | null;
  status: string;
  tools: number | null;
  pid: number | null;
  error: { code: string; message: string } | null;
}

function serverRows(supervisor: Supervisor, outcomes: StartOutcome[]): ServerRow[] {
  return outcomes.map((o) => {
    const server = supervisor.server(o.server);
    return {
      name: o.server,
      transport: server.def.transport,
      // A server whose declaration has errors never got as far as starting.
      status: !o.ok && o.error instanceof ConfigError ? 'invalid' : server.status,
      tools: o.ok ? o.tools : null,
      pid: server.pid ?? null,
      error: o.ok ? null : { code: o.error.code, message: supervisor.redactor.redactString(o.error.message) },
    };
  });
}

function disabledRows(project: Project): ServerRow[] {
  return [...(project.disabledServers?.values() ?? [])].map((d) => ({ name: d.name, transport: null, status: 'disabled', tools: null, pid: null, error: null }));
}

/** One tool as `orch mcp tools --json` prints it: the MCP tool plus where it lives. */
type ToolRow = Tool & { server: string; qualifiedName: string };

function toolRows(all: ServerTool[], server: string | undefined): ToolRow[] {
  return all
    .filter((t) => server === undefined || t.server === server)
    .map((t) => ({ server: t.server, qualifiedName: t.qualifiedName, ...t.tool }));
}

/** Left-aligned columns; colour is applied after padding so escapes never skew widths. */
function table(header: string[], rows: string[][], paint: (text: string, row: number, col: number) => string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], row: number) =>
    cells
      .map((c, i) => paint(i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0), row, i))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map((cells, row) => line(cells, row)).join('\n')}\n`;
}

function formatServers(rows: ServerRow[], color: boolean): string {
  const cells = rows.map((r) => [r.name, r.transport ?? '-', r.status, r.tools === null ? '-' : String(r.tools)]);
  return table(['SERVER', 'TRANSPORT', 'STATUS', 'TOOLS'], cells, (text, row, col) => {
    if (!color) return text;
    if (row === 0) return chalk.bold(text);
    if (col !== 2) return text;
    const status = rows[row - 1]?.status;
    return status === 'running' ? chalk.green(text) : status === 'disabled' ? chalk.dim(text) : chalk.red(text);
  });
}

function formatTools(rows: ToolRow[], color: boolean): string {
  if (rows.length === 0) return 'no tools\n';
  const firstLine = (text: string | undefined) => (text ?? '').split('\n')[0] ?? '';
  const cells = rows.map((r) => [r.qualifiedName, firstLine(r.description)]);
  return table(['TOOL', 'DESCRIPTION'], cells, (text, row) => (color && row === 0 ? chalk.bold(text) : text));
}
