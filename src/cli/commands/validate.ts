import { inspectProject } from '../../config/load.js';
import { ExitCode, type Issue } from '../../errors.js';
import type { Project } from '../../config/model.js';
import type { ToolReference } from '../../config/locate.js';
import { resolveStateDir } from '../../state/state-dir.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { withShutdownHandlers } from '../signals.js';
import { formatIssues } from '../ui/report.js';

interface ValidateFlags {
  connect?: boolean;
}

/** Starts the servers and turns unconfirmed tool names into confirmed ones or errors. */
async function connectCheck(project: Project, issues: Issue[], unverified: ToolReference[]): Promise<Issue[]> {
  // Loaded only for --connect: plain validate never needs the MCP SDK.
  const [{ checkServerTools }, { Supervisor }] = await Promise.all([import('../../mcp/check.js'), import('../../mcp/supervisor.js')]);
  const supervisor = new Supervisor(project.servers.values(), { stateDir: resolveStateDir(project.dir) });
  const found = await withShutdownHandlers(supervisor, () => checkServerTools(supervisor, project, unverified));
  return [...issues.filter((i) => i.code !== 'ORCH_TOOL_UNVERIFIED'), ...found];
}

export async function run(globals: GlobalOptions, flags: ValidateFlags, _command?: unknown, io: Io = processIo): Promise<number> {
  const inspection = await inspectProject({ dir: globals.dir, config: globals.config, team: globals.team });
  let issues = inspection.issues;
  const hasErrors = (list: Issue[]): boolean => list.some((i) => i.severity === 'error');

  if (flags.connect && inspection.project && !hasErrors(issues)) {
    issues = await connectCheck(inspection.project, issues, inspection.unverified);
  }

  const ok = !hasErrors(issues);
  if (globals.json) {
    const report = issues.map(({ severity, code, message, file, line, column, path, hint }) => ({
      severity,
      code,
      message,
      file,
      line: line ?? null,
      column: column ?? null,
      path: path ?? null,
      hint: hint ?? null,
    }));
    io.stdout.write(`${JSON.stringify({ ok, issues: report }, null, 2)}\n`);
    return ok ? ExitCode.ok : ExitCode.usage;
  }

  if (issues.length > 0 && !(globals.quiet && ok)) {
    const shown = globals.quiet ? issues.filter((i) => i.severity === 'error') : issues;
    io.stdout.write(`${formatIssues(shown, inspection.texts, globals.color, globals.verbose)}\n`);
  }
  if (ok && !globals.quiet && inspection.project) {
    const p = inspection.project;
    const names = Object.values(inspection.files).map((f) => f.slice(p.dir.length + 1) || f);
    const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
    io.stdout.write(
      `${issues.length > 0 ? '\n' : ''}valid: ${names.join(', ')} — ${count(p.tools.size, 'tool')}, ${count(p.agents.size, 'agent')}, ${count(p.workflows.size, 'workflow')}, ${count(p.servers.size, 'MCP server')}\n`,
    );
  }
  return ok ? ExitCode.ok : ExitCode.usage;
}
