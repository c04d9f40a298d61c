import os from 'node:os';
import type { AgentDef, Project, WorkflowDef } from '../config/model.js';
import { poolSizes } from '../agents/store.js';
import { Supervisor } from '../mcp/supervisor.js';
import { secretsRedactor } from '../secrets/redact.js';
import type { RunEvent } from '../state/events.js';
import { Journal } from '../state/journal.js';
import { RunLock } from '../state/run-lock.js';
import { foldRun, type RunState } from '../state/run-state.js';
import { createRunDir, loadRun, newRunId, runPaths } from '../state/runs.js';
import { resolveStateDir } from '../state/state-dir.js';
import { killRunningScripts } from '../tools/script.js';
import type { Logger } from '../tools/context.js';
import { executeRun, type EngineOutcome, type GateAsker } from './engine.js';
import { assertRunnable, stepRunner } from './runner.js';

export interface SessionOptions {
  project: Project;
  workflow: WorkflowDef;
  approve: ReadonlySet<string>;
  approveAll: boolean;
  ask?: GateAsker;
  logger: Logger;
  onEvent?: (event: RunEvent) => void;
  /** Environment secrets are read from (for redaction); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** MCP servers already running for the caller (`orch serve`); else the run starts its own. */
  supervisor?: Supervisor;
  /** Cancels the run from outside (an MCP client's cancellation), as Ctrl-C would. */
  signal?: AbortSignal;
}

export interface SessionResult {
  outcome: EngineOutcome;
  state: RunState;
  /** The signal that interrupted the run, if one did. */
  signal?: 'SIGINT' | 'SIGTERM';
  /** A resumed run that had already succeeded: nothing was run or written. */
  nothingToDo?: boolean;
}

/**
 * Each agent type's pool size bounds how many of its steps run at once: the size set
 * with `orch scale` (as `orch status` shows it), else the `count` of agent-team.yaml.
 */
async function poolBounds(project: Project, stateDir: string): Promise<Map<string, AgentDef>> {
  const sizes = await poolSizes(stateDir);
  return new Map([...project.agents].map(([role, agent]) => [role, { ...agent, count: Math.max(1, sizes.get(role) ?? agent.count) }]));
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
  assertRunnable(options.project, options.workflow.steps);
  const stateDir = resolveStateDir(options.project.dir, options.env);
  const runId = newRunId();
  await createRunDir(stateDir, runId);
  const paths = runPaths(stateDir, runId);
  const lock = RunLock.acquire(paths.lock, runId);
  return drive(options, paths.journal, lock, async (journal) => {
    await journal.append({ type: 'run_started', run_id: runId, workflow: options.workflow.name, inputs, dir: options.project.dir, pid: process.pid });
    const state = foldRun(journal.appended);
    if (!state) throw new Error('journal did not start the run');
    return state;
  });
}

/**
 * Continues a paused, failed or interrupted run without re-running finished steps. The
 * journal is read only once the lock is held, so two resumes cannot both act on the
 * same history; a run that finished meanwhile is left alone (`nothingToDo`).
 */
export async function resumeRun(options: SessionOptions, runId: string): Promise<SessionResult> {
  assertRunnable(options.project, options.workflow.steps);
  const stateDir = resolveStateDir(options.project.dir, options.env);
  const paths = runPaths(stateDir, runId);
  const lock = RunLock.acquire(paths.lock, runId);
  let previous: RunState;
  try {
    previous = await loadRun(stateDir, runId);
  } catch (err) {
    lock.release();
    throw err;
  }
  if (previous.status === 'succeeded') {
    lock.release();
    return { outcome: 'succeeded', state: previous, nothingToDo: true };
  }
  return drive(options, paths.journal, lock, async (journal) => {
    await journal.append({ type: 'run_resumed', pid: process.pid });
    previous.status = 'running';
    return previous;
  });
}

/**
 * Owns everything a run needs while it runs — lock, journal, MCP servers, signal
 * handlers — and releases all of it however the run ends. Ctrl-C (or SIGTERM) cancels
 * running steps and marks the run interrupted; a second one forces.
 */
async function drive(
  options: SessionOptions,
  journalFile: string,
  lock: RunLock,
  begin: (journal: Journal) => Promise<RunState>,
): Promise<SessionResult> {
  const { project } = options;
  const env = options.env ?? process.env;
  const redactor = secretsRedactor(env, project.servers.values());
  const journal = await Journal.open(journalFile, (e) => redactor.redact(e) as RunEvent);
  const owned = options.supervisor === undefined && project.servers.size > 0;
  const supervisor = options.supervisor ?? (owned ? new Supervisor(project.servers.values(), { stateDir: resolveStateDir(project.dir, env), env }) : undefined);
  const controller = new AbortController();
  const onCancel = (): void => controller.abort('cancelled');
  if (options.signal?.aborted) onCancel();
  options.signal?.addEventListener('abort', onCancel, { once: true });
  let received: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => () => {
    if (received) {
      // Asked twice: end every child now and leave; the journal already says what finished.
      killRunningScripts();
      for (const name of supervisor?.names() ?? []) supervisor?.server(name).killNow();
      lock.release();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    received = sig;
    controller.abort(sig);
  };
  const sigint = onSignal('SIGINT');
  const sigterm = onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  try {
    const state = await begin(journal);
    const outcome = await executeRun({
      workflow: options.workflow,
      agents: await poolBounds(project, resolveStateDir(project.dir, env)),
      journal,
      state,
      runStep: stepRunner(project, supervisor, options.logger),
      approve: options.approve,
      approveAll: options.approveAll,
      ask: options.ask,
      who: currentUser(),
      signal: controller.signal,
      onEvent: options.onEvent,
    });
    return { outcome, state, signal: received };
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    options.signal?.removeEventListener('abort', onCancel);
    if (owned) await supervisor?.shutdown();
    await journal.close();
    lock.release();
  }
}
