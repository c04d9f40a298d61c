import { ExitCode } from '../../errors.js';
import { llmIssues } from '../../agents/llm-check.js';
import { validateProject } from '../../mcp/validate.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { withShutdownHandlers } from '../signals.js';
import { formatIssues } from '../ui/report.js';

interface ValidateFlags {
  connect?: boolean;
}

export async function run(globals: GlobalOptions, flags: ValidateFlags, _command?: unknown, io: Io = processIo): Promise<number> {
  const { dir, config, team } = globals;
  const validation = await validateProject({ dir, config, team, connect: flags.connect, guard: withShutdownHandlers });
  const issues = validation.project ? [...validation.issues, ...llmIssues(validation.project, validation.texts)] : validation.issues;
  const ok = !issues.some((i) => i.severity === 'error');
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
    io.stdout.write(`${formatIssues(shown, validation.texts, globals.color, globals.verbose)}\n`);
  }
  if (ok && !globals.quiet && validation.project) {
    const p = validation.project;
    const names = Object.values(validation.files).map((f) => f.slice(p.dir.length + 1) || f);
    const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
    const disabled = (n: number): string => (n > 0 ? ` (and ${n} disabled)` : '');
    io.stdout.write(
      `${issues.length > 0 ? '\n' : ''}valid: ${names.join(', ')} — ${count(p.tools.size, 'tool')}, ${count(p.agents.size, 'agent')}, ${count(p.workflows.size, 'workflow')}, ${count(p.servers.size, 'MCP server')}${disabled(p.disabledServers?.size ?? 0)}\n`,
    );
  }
  return ok ? ExitCode.ok : ExitCode.usage;
}
