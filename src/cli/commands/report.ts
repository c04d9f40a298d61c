import path from 'node:path';
import { ExitCode } from '../../errors.js';
import { isTaskId } from '../../orchestration/task-store.js';
import { isRunId } from '../../state/runs.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { pullShared } from '../shared-state.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { timelineHtml } from '../report/html.js';
import { agentsFromProject, loadTimeline, writeHtmlReport } from '../report/load.js';
import { timelineText } from '../report/text.js';

/**
 * `orch report <run> [--html <file>] [--json]`: what a run (or orchestration task) did, from
 * its journal — a table of steps with a text timeline, gates, usage and errors; `--html`
 * writes it as a self-contained page with a Gantt chart (`-`: to stdout); `--json` prints the data.
 */
export async function run(globals: GlobalOptions, id: string, flags: { html?: string }, _command?: unknown, io: Io = processIo): Promise<number> {
  const stateDir = resolveStateDir(globals.dir);
  // On a queue engine, the run or task may have been driven on another machine.
  if (isRunId(id) || isTaskId(id)) await pullShared(globals, stateDir, id);
  const timeline = await loadTimeline(stateDir, id, agentsFromProject(globals));
  if (flags.html === '-') {
    io.stdout.write(timelineHtml(timeline));
    return ExitCode.ok;
  }
  if (flags.html !== undefined) {
    const file = path.resolve(process.cwd(), flags.html);
    await writeHtmlReport(file, timeline, '--html');
    if (!globals.json && !globals.quiet) io.stdout.write(`report of ${timeline.id} written to ${file}\n`);
  }
  if (globals.json) io.stdout.write(`${JSON.stringify(timeline, null, 2)}\n`);
  else if (flags.html === undefined) io.stdout.write(timelineText(timeline));
  return ExitCode.ok;
}
