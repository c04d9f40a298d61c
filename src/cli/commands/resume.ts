import { loadProject } from '../../config/load.js';
import { OrchError } from '../../errors.js';
import { isRunId, loadRun } from '../../state/runs.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { resumeRun } from '../../workflow/session.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import type { RunFlags, WorkflowFlags } from '../flags.js';
import { driveWorkflow, reportNothingToDo } from '../workflow-cli.js';
import { readJsonObject } from './run.js';
import { pullShared } from '../shared-state.js';

/**
 * `orch resume <run> [--input json]`: continue a paused, failed or interrupted run.
 * `--input` gives again the inputs its journal withheld (secrets are never stored).
 */
export async function run(
  globals: GlobalOptions,
  runId: string,
  flags: WorkflowFlags & Pick<RunFlags, 'input'>,
  _command?: unknown,
  io: Io = processIo,
): Promise<number> {
  if (isRunId(runId)) await pullShared(globals, resolveStateDir(globals.dir), runId);
  const previous = await loadRun(resolveStateDir(globals.dir), runId);
  if (previous.status === 'succeeded') return reportNothingToDo(globals, io, previous);
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const workflow = project.workflows.get(previous.workflow);
  if (!workflow) {
    throw new OrchError('ORCH_UNKNOWN_WORKFLOW', `run ${runId} is of workflow \`${previous.workflow}\`, which agent-team.yaml no longer declares`, {
      hint: 'restore the workflow to resume the run, or start a new run',
    });
  }
  const given = flags.input === undefined ? {} : await readJsonObject(flags.input, project.dir, '--input');
  return driveWorkflow(globals, io, project, workflow, flags, (options) => resumeRun(options, runId, given));
}
