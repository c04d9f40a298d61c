import { sharedFor } from '../shared-state.js';
import type { SharedRuns } from '../../engine/redis/shared-runs.js';
import { ExitCode, OrchError } from '../../errors.js';
import { secretsRedactor } from '../../secrets/redact.js';
import type { RunEvent } from '../../state/events.js';
import { Journal } from '../../state/journal.js';
import { RunLock } from '../../state/run-lock.js';
import { loadRun, runPaths } from '../../state/runs.js';
import type { RunState, StepState } from '../../state/run-state.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { currentUser } from '../../workflow/session.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';

/**
 * `orch approve <run> [step]` / `orch reject <run> [step] [--reason]`: records a decision
 * on a waiting gate. The run continues with `orch resume`.
 */
export async function decide(
  decision: 'approved' | 'rejected',
  globals: GlobalOptions,
  runId: string,
  stepId: string | undefined,
  reason: string | undefined,
  io: Io,
  answer?: string,
): Promise<number> {
  const stateDir = resolveStateDir(globals.dir);
  // On the queue engine, the run may be one another machine started: its journal is shared.
  const shared = await sharedFor(globals, stateDir);
  try {
    await shared?.pull(runId);
    return await decideLocked(decision, globals, stateDir, runId, stepId, reason, io, answer, shared);
  } finally {
    shared?.close();
  }
}

async function decideLocked(
  decision: 'approved' | 'rejected',
  globals: GlobalOptions,
  stateDir: string,
  runId: string,
  stepId: string | undefined,
  reason: string | undefined,
  io: Io,
  answer: string | undefined,
  shared: SharedRuns | undefined,
): Promise<number> {
  await loadRun(stateDir, runId); // an unknown run id is reported before any lock file is made
  const paths = runPaths(stateDir, runId);
  // The journal is read under the lock, so the decision is made on the run as it stands.
  const lock = RunLock.acquire(paths.lock, runId);
  try {
    const state = await loadRun(stateDir, runId);
    const step = pickStep(state, runId, stepId, decision);
    const asking = step.pendingToolCall?.tool === 'ask_human';
    const cd = globals.dir === process.cwd() ? '' : ` -C ${JSON.stringify(globals.dir)}`;
    if (decision === 'approved' && asking !== (answer !== undefined)) {
      throw asking
        ? new OrchError('ORCH_USAGE', `step \`${step.id}\` of run ${runId} waits for an answer to its agent's question, not an approval`, {
            hint: `orch${cd} answer ${runId} ${step.id} '<your answer>'`,
          })
        : new OrchError('ORCH_USAGE', `step \`${step.id}\` of run ${runId} waits for an approval, not an answer`, { hint: `orch${cd} approve ${runId} ${step.id}` });
    }
    // A reason is typed by a person, who may paste more than they meant to: it is written redacted, as every event.
    const redactor = secretsRedactor(process.env, []);
    const unlockShared = await shared?.lock(runId);
    const workflow = state.workflow;
    const journal = await Journal.open(paths.journal, (e) => redactor.redact(e) as RunEvent, shared?.mirror(workflow, runId)); // redaction keeps the shape
    try {
      const when = step.waitingGate ?? step.gates.at(-1)?.when ?? 'after';
      // A model's tool call waiting for approval is decided by its call id; the model gets a rejection's reason.
      const call = step.pendingToolCall ? { call_id: step.pendingToolCall.call_id } : {};
      await journal.append({ type: 'gate_decided', step: step.id, decision, by: currentUser(), method: 'command', when, reason, ...call, ...(answer !== undefined && { answer }) });
    } finally {
      await journal.close();
      await unlockShared?.();
    }
    if (globals.json) io.stdout.write(`${JSON.stringify({ run_id: runId, step: step.id, decision })}\n`);
    else if (!globals.quiet) {
      io.stdout.write(`${step.id} ${answer !== undefined ? 'answered' : decision}. Continue the run with: orch${cd} resume ${runId}\n`);
    }
    return ExitCode.ok;
  } finally {
    lock.release();
  }
}

/**
 * The step a decision is about: one waiting at a gate — or, to approve after all, one
 * whose gate was rejected (a rejection is not final until the run is abandoned).
 */
function pickStep(state: RunState, runId: string, stepId: string | undefined, decision: 'approved' | 'rejected'): StepState {
  const steps = [...state.steps.values()];
  const decidable = steps.filter((s) => s.waitingGate !== undefined || (decision === 'approved' && s.status === 'rejected'));
  if (decidable.length === 0) {
    throw new OrchError('ORCH_NO_GATE', `run ${runId} has no gate awaiting a decision (it is ${state.status})`, {
      hint: '`orch logs <run>` shows what happened',
    });
  }
  const step = stepId === undefined ? (decidable.length === 1 ? decidable[0] : undefined) : decidable.find((s) => s.id === stepId);
  if (!step) {
    throw new OrchError(
      'ORCH_NO_GATE',
      stepId === undefined ? `several steps of run ${runId} await a decision: name one` : `step \`${stepId}\` of run ${runId} is not awaiting a decision`,
      { hint: `waiting: ${decidable.map((s) => s.id).join(', ')}` },
    );
  }
  return step;
}

export async function run(globals: GlobalOptions, runId: string, step: string | undefined, flags: { reason?: string }, command: { name(): string }, io: Io = processIo): Promise<number> {
  return decide(command.name() === 'reject' ? 'rejected' : 'approved', globals, runId, step, flags.reason, io);
}
