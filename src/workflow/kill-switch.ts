import { setTimeout as sleep } from 'node:timers/promises';
import { AgentStore } from '../agents/store.js';
import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { engineTarget } from '../engine/redis/target.js';
import { OrchError } from '../errors.js';
import { isRunning, signal, type ProcessIdentity } from '../process/identity.js';
import { listRecords, reapOrphans } from '../process/pid-registry.js';
import { DEFAULT_STOP_TIMINGS } from '../process/stop.js';
import { ProcessTree } from '../process/tree.js';
import { readHalt, writeHalt } from '../state/halt.js';
import { Journal, readJournal } from '../state/journal.js';
import { liveLockHolder } from '../state/lock-file.js';
import { RunLock } from '../state/run-lock.js';
import { foldRun } from '../state/run-state.js';
import { listRuns, loadRun, runPaths } from '../state/runs.js';

/**
 * The kill switch on the local engine: the orch processes driving runs (they hold the
 * runs' locks) and those holding agent leases (`orchestrate` tasks) are asked to stop with
 * SIGTERM, which makes `orch run` cancel its steps, end its servers and scripts and
 * journal the run `interrupted`, as Ctrl-C does. One that has not exited after `termMs`
 * is SIGKILLed with its process tree, and its runs are journalled `interrupted` here.
 * Either way the runs stay resumable (`orch resume <run>`).
 */
export interface StopOptions {
  /** How long a process gets after SIGTERM before it is killed. */
  termMs: number;
}

/** One orch process the kill switch stopped, and what it was driving. */
export interface StoppedProcess {
  pid: number;
  runs: string[];
  /** Orchestration tasks it held agents for. */
  tasks: string[];
  /** It did not exit after SIGTERM in time and was killed. */
  forced: boolean;
}

function key(id: ProcessIdentity): string {
  return `${id.pid}:${id.startTime}`;
}

interface Target {
  holder: ProcessIdentity;
  runs: string[];
  tasks: string[];
}

/** Why orch cannot signal a process (another user's), or undefined when it can. */
function unsignallable(holder: ProcessIdentity): string | undefined {
  try {
    process.kill(holder.pid, 0);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'this user may not signal it' : undefined;
  }
}

function stopFailed(holder: ProcessIdentity, what: string, reason: string): OrchError {
  return new OrchError('ORCH_STOP_FAILED', `${what} is driven by process ${holder.pid}, and ${reason}`, {
    hint: `stop it as the user who started it, or as root: kill ${holder.pid}`,
  });
}

async function exitedWithin(holder: ProcessIdentity, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(holder)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/** Stops one orch process and everything it started; true when it had to be killed. */
async function stopHolder(stateDir: string, holder: ProcessIdentity, options: StopOptions): Promise<boolean> {
  // Seen before the signal: what it started is found even once it has been re-parented.
  const tree = new ProcessTree(holder);
  tree.refresh();
  signal(holder, 'SIGTERM');
  const exited = await exitedWithin(holder, options.termMs);
  if (!exited) {
    tree.refresh();
    tree.signalAll('SIGKILL');
    await exitedWithin(holder, 1000);
  }
  // What it could not end (or was killed before ending): its recorded servers and scripts, and the tree seen.
  await reapOrphans(stateDir, DEFAULT_STOP_TIMINGS);
  await tree.stop({ graceMs: exited ? DEFAULT_STOP_TIMINGS.graceMs : 0, termMs: DEFAULT_STOP_TIMINGS.termMs });
  return !exited;
}

/**
 * Journals a run `interrupted` when its process ended without doing so (it was killed).
 * Under the run's lock, so a resume started meanwhile is never written into.
 */
async function markInterrupted(stateDir: string, runId: string, signalName: string): Promise<void> {
  const paths = runPaths(stateDir, runId);
  let lock: RunLock;
  try {
    lock = RunLock.acquire(paths.lock, runId);
  } catch {
    return; // another process drives it again already: it has its own journal entries
  }
  try {
    const state = foldRun(await readJournal(paths.journal));
    if (state?.status !== 'running') return;
    const journal = await Journal.open(paths.journal);
    try {
      await journal.append({ type: 'run_interrupted', signal: signalName });
    } finally {
      await journal.close();
    }
  } finally {
    lock.release();
  }
}

async function stopTarget(stateDir: string, target: Target, options: StopOptions): Promise<StoppedProcess> {
  const forced = await stopHolder(stateDir, target.holder, options);
  for (const runId of target.runs) await markInterrupted(stateDir, runId, forced ? 'SIGKILL' : 'SIGTERM');
  return { pid: target.holder.pid, runs: target.runs, tasks: target.tasks, forced };
}

/**
 * Every live orch process (this one aside) driving a run, holding agents or running a
 * script tool, with what it holds. An `orch serve` that is only waiting for calls is left
 * to serve: its next call is refused while the switch is on.
 */
async function activeProcesses(stateDir: string): Promise<Map<string, Target>> {
  const targets = new Map<string, Target>();
  const at = (holder: ProcessIdentity): Target => {
    const k = key(holder);
    let t = targets.get(k);
    if (!t) targets.set(k, (t = { holder, runs: [], tasks: [] }));
    return t;
  };
  const { runs } = await listRuns(stateDir);
  for (const run of runs) {
    const holder = liveLockHolder(runPaths(stateDir, run.runId).lock);
    if (holder && holder.pid !== process.pid) at(holder).runs.push(run.runId);
  }
  const registry = await new AgentStore(stateDir).read();
  for (const pool of Object.values(registry.pools)) {
    for (const instance of pool.instances) {
      const owner = instance.owner;
      if (!owner || owner.pid === process.pid || !isRunning(owner)) continue;
      const t = at(owner);
      if (instance.currentTask !== null && !t.runs.includes(instance.currentTask) && !t.tasks.includes(instance.currentTask)) t.tasks.push(instance.currentTask);
    }
  }
  for (const queued of registry.queue) if (queued.owner.pid !== process.pid && isRunning(queued.owner)) at(queued.owner);
  // A script tool running right now (`orch run <tool>`, or a call to `orch serve`): its orch is at work too.
  for (const record of listRecords(stateDir)) {
    if (record.kind === 'script' && record.owner.pid !== process.pid && isRunning(record.owner)) at(record.owner);
  }
  return targets;
}

export interface StopRunResult {
  runId: string;
  /** The run's status before: only a `running` one is stopped. */
  status: string;
  /** The process that drove it, stopped; absent when nothing ran it. */
  stopped?: StoppedProcess;
}

/**
 * Stops one run: the process holding its lock is stopped (with whatever else that process
 * drives: an `orch serve` may hold several runs). A run no process drives is left as it is.
 */
export async function stopRun(stateDir: string, runId: string, options: StopOptions): Promise<StopRunResult> {
  const state = await loadRun(stateDir, runId);
  const holder = liveLockHolder(runPaths(stateDir, runId).lock);
  if (!holder || holder.pid === process.pid) return { runId, status: state.status };
  const reason = unsignallable(holder);
  if (reason !== undefined) throw stopFailed(holder, `run ${runId}`, reason);
  const target = (await activeProcesses(stateDir)).get(key(holder)) ?? { holder, runs: [runId], tasks: [] };
  if (!target.runs.includes(runId)) target.runs.push(runId);
  return { runId, status: state.status, stopped: await stopTarget(stateDir, target, options) };
}

/** A process `orch stop --all` could not stop, and why. */
export interface StopFailure {
  pid: number;
  runs: string[];
  tasks: string[];
  error: OrchError;
}

/**
 * `orch stop --all`: turns the kill switch on first, so nothing new starts meanwhile,
 * then stops every orch process driving a run or holding agents. Looks again until a
 * look finds nothing new, for runs that were starting while it looked. A process it
 * cannot signal is reported in `failed`; the others are stopped all the same.
 */
export async function stopAll(stateDir: string, options: StopOptions & { by: string }): Promise<{ stopped: StoppedProcess[]; failed: StopFailure[] }> {
  const previous = await readHalt(stateDir);
  const halt = { at: new Date().toISOString(), by: options.by, pid: process.pid, stopped: previous?.stopped ?? [] };
  await writeHalt(stateDir, halt);
  const stopped: StoppedProcess[] = [];
  const failed: StopFailure[] = [];
  const done = new Set<string>();
  for (let look = 0; look < 5; look++) {
    const targets = [...(await activeProcesses(stateDir)).entries()].filter(([k]) => !done.has(k)).map(([k, t]) => (done.add(k), t));
    if (targets.length === 0) break;
    const stoppable: Target[] = [];
    for (const t of targets) {
      const reason = unsignallable(t.holder);
      if (reason === undefined) stoppable.push(t);
      else failed.push({ pid: t.holder.pid, runs: t.runs, tasks: t.tasks, error: stopFailed(t.holder, describeTarget(t), reason) });
    }
    stopped.push(...(await Promise.all(stoppable.map((t) => stopTarget(stateDir, t, options)))));
  }
  halt.stopped = [...new Set([...halt.stopped, ...stopped.flatMap((s) => s.runs)])];
  await writeHalt(stateDir, halt);
  return { stopped, failed };
}

function describeTarget(t: Target): string {
  return [...t.runs.map((r) => `run ${r}`), ...t.tasks.map((task) => `task ${task}`)].join(', ') || 'a tool run';
}

/** Where the kill switch acts: the project, and the queue engine its runs use (none: the local engine). */
export interface KillSwitchScope {
  dir: string;
  stateDir: string;
  /** `engine:` / `--engine` / the engine variable; undefined for the local engine. */
  engineUrl?: string;
  /** One run, or every run (`--all`). */
  runId?: string;
}

/**
 * The queue engine's part of the kill switch, where it plugs in: on `stop`, pause the
 * engine's queues (of `scope.runId`'s jobs, or all of them) and have its workers cancel
 * their jobs, journalled `interrupted` and resumable; on `start`, resume the queues. The
 * local engine has no queues: what stopRun and stopAll did is all there is. Returns false
 * for an engine this build cannot reach, so the caller can say that only this machine's
 * runs were stopped.
 */
export async function queueEngineKillSwitch(scope: KillSwitchScope, action: 'stop' | 'start'): Promise<boolean> {
  let project: Project;
  try {
    ({ project } = await loadProject({ dir: scope.dir }));
  } catch {
    // A project that does not load names no engine orch can trust; a URL given is still tried.
    if (scope.engineUrl === undefined || scope.engineUrl === 'local') return true;
    return false;
  }
  const target = engineTarget(project);
  if (!target) return true;
  const { RedisEngine } = await import('../engine/redis/redis-engine.js');
  try {
    await new RedisEngine({ project, target }).killSwitch(action, scope.runId);
    return true;
  } catch {
    return false;
  }
}
