import { formatDuration } from '../../config/duration.js';
import { ExitCode } from '../../errors.js';
import { resolveStateDir } from '../../state/state-dir.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { listAll, rowName } from '../run-listing.js';
import { pullShared } from '../shared-state.js';

/** `orch runs`: the project's workflow runs and orchestration tasks, oldest first. */
export async function run(globals: GlobalOptions, _flags?: unknown, _command?: unknown, io: Io = processIo): Promise<number> {
  const stateDir = resolveStateDir(globals.dir);
  await pullShared(globals, stateDir);
  const { rows, unreadable } = await listAll(stateDir);
  for (const u of unreadable) io.stderr.write(`warning: run ${u.id} cannot be read: ${u.reason}\n`);
  if (globals.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    if (!globals.quiet) io.stdout.write('no runs yet: start one with `orch run <workflow>`\n');
    return ExitCode.ok;
  }
  const table = [
    ['RUN', 'KIND', 'NAME', 'STATUS', 'STARTED', 'DURATION'],
    ...rows.map((r) => [r.id, r.kind, rowName(r), r.status, r.started.replace('T', ' ').slice(0, 19), r.duration_ms === null ? '' : formatDuration(r.duration_ms)]),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of table) io.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  return ExitCode.ok;
}
