import { formatDuration } from '../../config/duration.js';
import { ExitCode } from '../../errors.js';
import { listRuns } from '../../state/runs.js';
import { resolveStateDir } from '../../state/state-dir.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';

/** `orch runs`: the project's workflow runs, oldest first. */
export async function run(globals: GlobalOptions, _flags?: unknown, _command?: unknown, io: Io = processIo): Promise<number> {
  const { runs, unreadable } = await listRuns(resolveStateDir(globals.dir));
  for (const u of unreadable) io.stderr.write(`warning: run ${u.id} cannot be read: ${u.reason}\n`);
  const rows = runs.map((r) => {
    const end = r.endedAt ?? (r.status === 'running' ? new Date().toISOString() : undefined);
    return {
      id: r.runId,
      workflow: r.workflow,
      status: r.status,
      started: r.startedAt,
      duration_ms: end ? Date.parse(end) - Date.parse(r.startedAt) : null,
    };
  });
  if (globals.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    if (!globals.quiet) io.stdout.write('no runs yet: start one with `orch run <workflow>`\n');
    return ExitCode.ok;
  }
  const table = [['RUN', 'WORKFLOW', 'STATUS', 'STARTED', 'DURATION'], ...rows.map((r) => [r.id, r.workflow, r.status, r.started.replace('T', ' ').slice(0, 19), r.duration_ms === null ? '' : formatDuration(r.duration_ms)])];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of table) io.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  return ExitCode.ok;
}
