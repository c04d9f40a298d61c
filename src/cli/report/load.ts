import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OrchError } from '../../errors.js';
import { readJournal } from '../../state/journal.js';
import { isRunId, loadRun, runPaths } from '../../state/runs.js';
import { explainFsError } from '../../util/fs-errors.js';
import { suggest } from '../../util/suggest.js';
import { listAll, readOnlyTasks } from '../run-listing.js';
import { timelineHtml } from './html.js';
import { runTimeline, taskTimeline, type Timeline } from './timeline.js';

/** The timeline of a workflow run or an orchestration task, by the id `orch runs` lists; built from the journal alone. */
export async function loadTimeline(
  stateDir: string,
  id: string,
  /** The agent of each step of a workflow, by the workflow's name, where the journal may not say. */
  agents?: (workflow: string) => Promise<Map<string, string>>,
): Promise<Timeline> {
  if (isRunId(id)) {
    // loadRun says clearly when there is no such run, or its journal cannot be read.
    const run = await loadRun(stateDir, id);
    return runTimeline(await readJournal(runPaths(stateDir, id).journal), (await agents?.(run.workflow)) ?? new Map());
  }
  // Only a plain name may be a task's: a path never reaches the file system.
  const task = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id) ? await readOnlyTasks(stateDir).summary(id) : undefined;
  if (task) return taskTimeline(task);
  const ids = (await listAll(stateDir)).rows.map((r) => r.id);
  const guess = suggest(id, ids);
  throw new OrchError('ORCH_UNKNOWN_RUN', `\`${id}\` is not a run id, and no task has it`, {
    hint: guess ? `did you mean \`${guess}\`?` : ids.length ? 'run `orch runs` to list them' : 'this project has no runs yet',
  });
}

/** Writes the HTML report, making missing folders; `flag` names where the file was asked for, in the error. */
export async function writeHtmlReport(file: string, timeline: Timeline, flag: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, timelineHtml(timeline));
  } catch (err) {
    const { what } = explainFsError(err, file);
    throw new OrchError('ORCH_REPORT_WRITE', `cannot write the ${flag} file ${file}: ${what}`, {
      hint: `the run itself is recorded (\`orch report ${timeline.id} --html <file>\` writes it later); give ${flag} a writable file`,
      cause: err,
    });
  }
}

/**
 * The agent of each step of a workflow, from the project when it still loads and declares
 * it: the journal names the agent of every step that started, this adds those that did not.
 */
export function agentsFromProject(options: { dir: string; config?: string; team?: string }): (workflow: string) => Promise<Map<string, string>> {
  return async (workflow) => {
    try {
      const { loadProject } = await import('../../config/load.js');
      const { project } = await loadProject(options);
      return new Map((project.workflows.get(workflow)?.steps ?? []).map((s) => [s.id, s.agent]));
    } catch {
      // A report is read from the journal alone; a project that no longer loads only loses this detail.
      return new Map();
    }
  };
}
