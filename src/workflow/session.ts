import { rm } from 'node:fs/promises';
import os from 'node:os';
import type { Project, StepDef, WorkflowDef } from '../config/model.js';
import { ChosenEngine, pullRuns, sharedRuns } from '../engine/choose.js';
import type { SharedRuns } from '../engine/redis/shared-runs.js';
import { Supervisor } from '../mcp/supervisor.js';
import { secretsRedactor, type Redactor } from '../secrets/redact.js';
import type { RunEvent } from '../state/events.js';
import { haltedError } from '../state/halt.js';
import { Journal } from '../state/journal.js';
import { RunLock } from '../state/run-lock.js';
import { applyToState, foldRun, type RunState } from '../state/run-state.js';
import { createRunDir, loadRun, runPaths } from '../state/runs.js';
import { resolveStateDir } from '../state/state-dir.js';
import { redactingLogger, type Logger } from '../tools/context.js';
import { executeRun, type EngineOutcome, type GateAsker } from './engine.js';
import type { CassetteSpec } from '../agents/llm-action.js';
import { assertRunnable, sessionRunner } from './runner.js';
import { assertNothingWithheld, restoreInputs } from './withheld.js';
import { inSpan, redactSpansWith, tracingOn, withCarrier, type Carrier } from '../util/tracing.js';

export interface SessionOptions {
  project: Project;
  workflow: WorkflowDef;
  approve: ReadonlySet<string>;
  approveAll: boolean;
  ask?: GateAsker;
  /** Answers the model's questions where there is no terminal prompt (an MCP client's elicitation). */
  answer?: GateAsker;
  logger: Logger;
  onEvent?: (event: RunEvent) => void;
  /** Environment secrets are read from (for redaction); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** `--record <dir>` / `--replay <dir>`: provider exchanges of LLM steps written down, or served from a recording. */
  cassette?: CassetteSpec;
  /** MCP servers already running for the caller (`orch serve`); else the run starts its own. */
  supervisor?: Supervisor;
  /**
   * Cancels the run from outside: Ctrl-C in the CLI (reason `SIGINT` or `SIGTERM`), an MCP
   * client's cancellation. Running steps are cancelled and the run journalled `interrupted`.
   */
  signal?: AbortSignal;
  /** The id of a new run, when the caller has one to give (an A2A task's id); else a fresh one. */
  runId?: string;
  /** Who decides through `ask`, for the journal (default: the user of this terminal), and that they are a client of `orch serve`. */
  client?: string;
}

export interface SessionResult {
  outcome: EngineOutcome;
  /** The run as its journal now stands: what may be shown or reported, secrets redacted. */
  state: RunState;
  /** The signal that interrupted the run, if one did. */
  signal?: 'SIGINT' | 'SIGTERM';
  /** A resumed run that had already succeeded: nothing was run or written. */
  nothingToDo?: boolean;
}

/**
 * Refuses a run before it starts when it could not finish: a step that needs an LLM without
 * a key. (An empty pool or an engine out of reach is refused by the engine, before the run
 * writes anything.)
 */
function assertStartable(options: SessionOptions, steps: readonly StepDef[]): void {
  assertRunnable(options.project, steps, options.env ?? process.env, options.cassette?.replay !== undefined);
}

/**
 * How many instances of each agent type the run's unfinished steps could use at once:
 * one per step, and one more for a step that may be reassigned to another instance.
 */
function wantedInstances(workflow: WorkflowDef, state: RunState): Map<string, number> {
  const wanted = new Map<string, number>();
  for (const step of workflow.steps) {
    if (state.steps.get(step.id)?.completed) continue;
    wanted.set(step.agent, (wanted.get(step.agent) ?? 0) + (step.onFailure === 'reassign' ? 2 : 1));
  }
  return wanted;
}

/** Who decides gates from this terminal, for the journal. */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Starts a new run of a workflow with the given (resolved) inputs. */
export async function startRun(options: SessionOptions, inputs: Record<string, unknown>): Promise<SessionResult> {
  const stateDir = resolveStateDir(options.project.dir, options.env);
  assertStartable(options, options.workflow.steps);
  const given = options.runId;
  const runId = await createRunDir(stateDir, given === undefined ? undefined : () => given);
  const paths = runPaths(stateDir, runId);
  let started = false;
  try {
    const lock = RunLock.acquire(paths.lock, runId);
    return await drive(options, { runId, fresh: true }, paths.journal, lock, undefined, async (journal) => {
      const { event } = await journal.append({
        type: 'run_started',
        run_id: runId,
        workflow: options.workflow.name,
        inputs,
        dir: options.project.dir,
        pid: process.pid,
        ...withCarrier(),
      });
      started = true;
      const state = foldRun([event]);
      if (!state) throw new Error('journal did not start the run');
      return { state };
    });
  } catch (err) {
    // A run that could not even be recorded (a full disk) leaves no folder to puzzle over.
    if (!started) await rm(paths.dir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Continues a paused, failed or interrupted run without re-running finished steps. The
 * journal is read only once the lock is held, so two resumes cannot both act on the
 * same history; a run that finished meanwhile is left alone (`nothingToDo`). `given`:
 * inputs the journal withheld (secrets), given again; a remaining step that would read
 * a withheld value refuses the resume (`ORCH_SECRET_WITHHELD`) before anything runs.
 */
export async function resumeRun(options: SessionOptions, runId: string, given: Record<string, unknown> = {}): Promise<SessionResult> {
  const stateDir = resolveStateDir(options.project.dir, options.env);
  assertStartable(options, options.workflow.steps);
  const paths = runPaths(stateDir, runId);
  const lock = RunLock.acquire(paths.lock, runId);
  let previous: RunState;
  let stored: RunState;
  try {
    // On the queue engine, the run may have been started, decided or resumed on another machine.
    await pullRuns(options.project, stateDir, runId);
    stored = await loadRun(stateDir, runId);
    if (stored.status === 'succeeded') {
      lock.release();
      return { outcome: 'succeeded', state: stored, nothingToDo: true };
    }
    // The journal's copy stays as it is for what is shown; the run goes on with the inputs given again.
    previous = structuredClone(stored);
    previous.inputs = restoreInputs(options.workflow, stored, given);
    assertNothingWithheld(options.project, options.workflow, previous);
  } catch (err) {
    lock.release();
    throw err;
  }
  return drive(options, { runId, fresh: false }, paths.journal, lock, stored.carrier, async (journal) => {
    await journal.append({ type: 'run_resumed', pid: process.pid });
    previous.status = 'running';
    return { state: previous, stored };
  });
}

/** Learns what a journal event holds under secret-looking keys, then gives the copy to write. */
function redactEvent(redactor: Redactor, event: RunEvent): RunEvent {
  redactor.learn(event);
  return redactor.redact(event) as RunEvent; // redaction keeps the shape of a JSON value
}

/**
 * Owns everything a run needs while it runs — lock, journal, MCP servers, the engine
 * session holding its agent instances — and releases all of it however the run ends.
 * Cancelling `options.signal` cancels running steps and marks the run interrupted.
 */
async function drive(
  options: SessionOptions,
  /** `fresh`: a new run, which the queue engine's kill switch refuses while it is on (a resume it lets through). */
  run: { runId: string; fresh: boolean },
  journalFile: string,
  lock: RunLock,
  /** The trace context the run started in (a resumed run's), so its spans join that trace. */
  parent: Carrier | undefined,
  /** `state`: what the engine drives, with the values the run really has; `stored`: the journal's copy of it before this process. */
  begin: (journal: Journal) => Promise<{ state: RunState; stored?: RunState }>,
): Promise<SessionResult> {
  if (!tracingOn()) return driveRun(options, run, journalFile, lock, begin);
  const attributes = { 'orch.workflow': options.workflow.name, 'orch.project': options.project.name ?? options.project.team?.name, 'orch.run.resumed': parent !== undefined };
  return inSpan(
    `run ${options.workflow.name}`,
    attributes,
    async (span) => {
      const result = await driveRun(options, run, journalFile, lock, begin);
      span.set({ 'orch.run.id': result.state.runId, 'orch.run.status': result.outcome });
      if (result.outcome === 'failed') span.fail(`run ${result.state.runId} failed`);
      return result;
    },
    parent ? { carrier: parent } : {},
  );
}

async function driveRun(
  options: SessionOptions,
  { runId, fresh }: { runId: string; fresh: boolean },
  journalFile: string,
  lock: RunLock,
  begin: (journal: Journal) => Promise<{ state: RunState; stored?: RunState }>,
): Promise<SessionResult> {
  const { project } = options;
  const env = options.env ?? process.env;
  const stateDir = resolveStateDir(project.dir, env);
  const redactor = secretsRedactor(env, project.servers.values());
  let journal: Journal | undefined;
  let shared: SharedRuns | undefined;
  let unlockShared: (() => Promise<void>) | undefined;
  // What the run learns is secret (its inputs, a step's `password:`) is hidden on its spans too.
  const unredact = redactSpansWith((text) => redactor.redactString(text));
  const owned = options.supervisor === undefined && project.servers.size > 0;
  const supervisor = options.supervisor ?? (owned ? new Supervisor(project.servers.values(), { stateDir, env }) : undefined);
  const controller = new AbortController();
  const onCancel = (): void => controller.abort(interruption(options.signal?.reason));
  if (options.signal?.aborted) onCancel();
  options.signal?.addEventListener('abort', onCancel, { once: true });
  try {
    // Steps' messages are shown: they pass the run's redactor on their way.
    const logger = redactingLogger(options.logger, (m) => redactor.redactString(m));
    const engine = new ChosenEngine({ project, stateDir, servers: supervisor, logger, env, cassette: options.cassette });
    // An engine that cannot be reached, or an empty pool, refuses the run before anything is written.
    await engine.prepare(new Set(options.workflow.steps.map((s) => s.agent)));
    // With the queue engine the journal is shared through Redis, and so is the run's lock.
    shared = await sharedRuns(project, stateDir, env);
    if (fresh && (await shared?.halted())) {
      throw haltedError(`workflow \`${options.workflow.name}\``, "the queue engine's kill switch is on (`orch stop --all`), and no new run starts");
    }
    unlockShared = await shared?.lock(runId);
    journal = await Journal.open(journalFile, (e) => redactEvent(redactor, e), shared?.mirror(options.workflow.name, runId));
    const written = journal;
    const { state, stored } = await begin(journal);
    // Inputs given again on resume are never journalled; what echoes them is hidden all the same.
    redactor.learn(state.inputs);
    const session = await engine.open({ owner: state.runId, wanted: wantedInstances(options.workflow, state), signal: controller.signal, fresh });
    const runStep = sessionRunner(session, state.runId, options.workflow.steps);
    try {
      const outcome = await executeRun({
        workflow: options.workflow,
        journal: written,
        state,
        runStep: (request) => {
          // A step's arguments may hold secrets of their own (`with: { password: ... }`): its output hides them too.
          redactor.learn(request.args);
          return runStep(request);
        },
        shown: (value) => redactor.redact(value) as typeof value, // redaction keeps the shape of a JSON value
        approve: options.approve,
        approveAll: options.approveAll,
        ask: options.ask,
        answer: options.answer,
        who: options.client ?? currentUser(),
        ...(options.client !== undefined && { askedVia: 'client' as const }),
        signal: controller.signal,
        onEvent: options.onEvent,
      });
      const reason: unknown = controller.signal.reason;
      return { outcome, state: journalled(stored, written), signal: reason === 'SIGINT' || reason === 'SIGTERM' ? reason : undefined };
    } finally {
      await session.close();
    }
  } finally {
    options.signal?.removeEventListener('abort', onCancel);
    if (owned) await supervisor?.shutdown();
    await journal?.close();
    await unlockShared?.();
    shared?.close();
    lock.release();
    unredact();
  }
}

/** The run as its journal now stands: its stored state before this process, and what this process wrote. */
function journalled(stored: RunState | undefined, journal: Journal): RunState {
  if (!stored) {
    const state = foldRun(journal.appended);
    if (!state) throw new Error('journal did not start the run');
    return state;
  }
  for (const event of journal.appended) applyToState(stored, event);
  return stored;
}

/** What the journal says interrupted a run: the signal the CLI passed on, else a cancellation. */
function interruption(reason: unknown): string {
  return reason === 'SIGINT' || reason === 'SIGTERM' ? reason : 'cancelled';
}
