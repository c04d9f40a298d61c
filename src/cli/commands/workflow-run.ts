import type { Project } from '../../config/model.js';
import { ExitCode } from '../../errors.js';
import { secretsRedactor } from '../../secrets/redact.js';
import { resolveInputs } from '../../workflow/inputs.js';
import { describePlan } from '../../workflow/plan.js';
import { assertRunnable } from '../../workflow/runner.js';
import { startRun } from '../../workflow/session.js';
import type { GlobalOptions, Io } from '../context.js';
import type { RunFlags } from '../flags.js';
import { driveWorkflow } from '../workflow-cli.js';

/** `orch run <workflow>`: plan (`--dry-run`) or start a run. */
export async function runWorkflowCommand(
  globals: GlobalOptions,
  io: Io,
  project: Project,
  name: string,
  input: Record<string, unknown>,
  flags: RunFlags,
): Promise<number> {
  const workflow = project.workflows.get(name);
  if (!workflow) throw new Error(`workflow ${name} vanished`);
  const inputs = resolveInputs(workflow, input);
  if (flags.dryRun) {
    assertRunnable(project, workflow.steps, process.env, flags.replay !== undefined);
    if (globals.json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            workflow: workflow.name,
            inputs: secretsRedactor(process.env, project.servers.values()).redact(inputs),
            steps: workflow.steps.map((s) => ({ id: s.id, agent: s.agent, action: s.action, needs: s.needs, if: s.if ?? null, gate: s.gate ?? null })),
          },
          null,
          2,
        )}\n`,
      );
    } else io.stdout.write(describePlan(workflow));
    return ExitCode.ok;
  }
  return driveWorkflow(globals, io, project, workflow, flags, (options) => startRun(options, inputs), true);
}
