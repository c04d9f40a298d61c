import type { Project } from '../../config/model.js';
import { declaredTools } from '../../config/tools.js';
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
  const remote = validation.project && flags.connect && validation.ok ? await (await import('../../agents/a2a-check.js')).remoteAgentIssues(validation.project) : [];
  const issues = validation.project ? [...validation.issues, ...llmIssues(validation.project, validation.texts), ...remote] : validation.issues;
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
    const declared = validation.project ? { declared: declaredNames(validation.project), builtin_tools: builtinNames(validation.project) } : {};
    io.stdout.write(`${JSON.stringify({ ok, issues: report, ...declared }, null, 2)}\n`);
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
    const d = declaredNames(p);
    const disabled = (n: number): string => (n > 0 ? ` (and ${n} disabled)` : '');
    io.stdout.write(
      `${issues.length > 0 ? '\n' : ''}valid: ${names.join(', ')} — ${count(d.tools.length, 'tool')}, ${count(d.agents.length, 'agent')}, ${count(d.workflows.length, 'workflow')}, ${count(d.servers.length, 'MCP server')}${disabled(p.disabledServers?.size ?? 0)}\n`,
    );
    const rows: [string, string[]][] = [
      ['tools', d.tools],
      ['agents', d.agents],
      ['workflows', d.workflows],
      ['MCP servers', d.servers],
      ['built in', builtinNames(p)],
    ];
    for (const [label, list] of rows) if (list.length > 0) io.stdout.write(`  ${`${label}:`.padEnd(13)} ${list.join(', ')}\n`);
  }
  return ok ? ExitCode.ok : ExitCode.usage;
}

/** What the project's files declare, by name, in the order they declare it. */
function declaredNames(p: Project): { tools: string[]; agents: string[]; workflows: string[]; servers: string[] } {
  return {
    tools: declaredTools(p.tools).map((t) => t.name),
    agents: [...p.agents.keys()],
    workflows: [...p.workflows.keys()],
    servers: [...p.servers.keys()],
  };
}

/** orch's built-in tools the project may use without declaring them. */
function builtinNames(p: Project): string[] {
  return [...p.tools.values()].filter((t) => t.builtin === true).map((t) => t.name);
}
