import { ExitCode, OrchError } from '../../errors.js';
import { Journal } from '../../state/journal.js';
import { RunLock } from '../../state/run-lock.js';
import { loadRun, runPaths } from '../../state/runs.js';
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
): Promise<number> {
  const stateDir = resolveStateDir(globals.dir);
  const state = await loadRun(stateDir, runId);
  const waiting = [...state.steps.values()].filter((s) => s.waitingGate !== undefined);
  if (waiting.length === 0) {
    throw new OrchError('ORCH_NO_GATE', `run ${runId} has no gate awaiting a decision (it is ${state.status})`, {
      hint: state.status === 'paused' ? undefined : '`orch logs <run>` shows what happened',
    });
  }
  const step = stepId === undefined ? (waiting.length === 1 ? waiting[0] : undefined) : waiting.find((s) => s.id === stepId);
  if (!step) {
    throw new OrchError('ORCH_NO_GATE', stepId === undefined ? `several steps of run ${runId} await a decision: name one` : `step \`${stepId}\` of run ${runId} is not awaiting a decision`, {
      hint: `waiting: ${waiting.map((s) => s.id).join(', ')}`,
    });
  }
  const paths = runPaths(stateDir, runId);
  const lock = RunLock.acquire(paths.lock, runId);
  const journal = await Journal.open(paths.journal);
  try {
    await journal.append({ type: 'gate_decided', step: step.id, decision, by: currentUser(), method: 'command', when: step.waitingGate ?? 'after', reason });
  } finally {
    await journal.close();
    lock.release();
  }
  if (globals.json) io.stdout.write(`${JSON.stringify({ run_id: runId, step: step.id, decision })}\n`);
  else if (!globals.quiet) {
    const cd = globals.dir === process.cwd() ? '' : ` -C ${JSON.stringify(globals.dir)}`;
    io.stdout.write(`${step.id} ${decision}. Continue the run with: orch${cd} resume ${runId}\n`);
  }
  return ExitCode.ok;
}

export async function run(globals: GlobalOptions, runId: string, step: string | undefined, flags: { reason?: string }, command: { name(): string }, io: Io = processIo): Promise<number> {
  return decide(command.name() === 'reject' ? 'rejected' : 'approved', globals, runId, step, flags.reason, io);
}
