import { agentTypes } from '../../agents/agent-types.js';
import { loadProject } from '../../config/load.js';
import { parseDuration } from '../../config/duration.js';
import { ExitCode, OrchError } from '../../errors.js';
import { QueueWorker, type QueueWorkerOptions } from '../../engine/redis/queue-worker.js';
import { engineTarget } from '../../engine/redis/target.js';
import { workerRuntime } from '../../engine/worker-host.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { silentLogger, streamLogger } from '../../tools/context.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';

interface WorkerFlags {
  agentType?: string[];
  concurrency?: string;
  stallInterval?: string;
}

const DEFAULT_STALL = '5s';

type JobEvent = Parameters<NonNullable<QueueWorkerOptions['onJob']>>[0];

/**
 * `orch worker [--agent-type T ...] [--concurrency N]`: takes the queue engine's jobs of
 * those agent types (all of the team's when none is named) until SIGTERM or Ctrl-C, which
 * drain it: no new jobs, the running ones finish, exit 0. A second Ctrl-C cancels them.
 */
export async function run(globals: GlobalOptions, flags: WorkerFlags, _command: unknown, io: Io = processIo): Promise<number> {
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const target = engineTarget(project);
  if (!target) {
    throw new OrchError('ORCH_ENGINE_URL', '`orch worker` takes jobs from a queue engine, and none is named', {
      hint: 'pass --engine redis://host:6379/0, set ORCH_ENGINE, or add `engine: redis://...` to agent-team.yaml',
      exitCode: ExitCode.usage,
    });
  }
  const all = agentTypes(project);
  const named = flags.agentType ?? [];
  for (const name of named) {
    if (!all.has(name)) {
      throw new OrchError('ORCH_UNKNOWN_AGENT_TYPE', `the team has no agent type \`${name}\``, { hint: `its agent types are: ${[...all.keys()].join(', ')}`, exitCode: ExitCode.usage });
    }
  }
  const types = named.length > 0 ? named.map((n) => all.get(n)!) : [...all.values()];
  const concurrency = positiveInt(flags.concurrency ?? '1', '--concurrency');
  const stallText = flags.stallInterval ?? process.env.ORCH_STALL_INTERVAL ?? DEFAULT_STALL;
  const stallMs = parseDuration(stallText);
  if (stallMs === undefined || stallMs < 500) {
    throw new OrchError('ORCH_USAGE', `--stall-interval \`${stallText}\` is not a duration of at least 500ms`, { hint: 'write it as `5s` or `2000ms`', exitCode: ExitCode.usage });
  }
  const stateDir = resolveStateDir(project.dir);
  const runtime = workerRuntime(project, stateDir);
  const logger = globals.quiet ? silentLogger : streamLogger(io.stderr, 'worker', globals.verbose);
  const out = batchedLines(io.stdout);
  const say = (line: string, json: Record<string, unknown>) => {
    if (globals.json) out.write(`${JSON.stringify(json)}\n`);
    else if (!globals.quiet) out.write(`${line}\n`);
  };
  // Said for every job: the JSON form is built only when it is printed.
  const sayJob = (e: JobEvent) => {
    if (globals.json) out.write(`${JSON.stringify({ event: `job_${e.phase}`, ...e })}\n`);
    else if (!globals.quiet) out.write(`${jobLine(e)}\n`);
  };
  const worker = new QueueWorker({
    runtime,
    target,
    types,
    concurrency,
    stallMs,
    logger,
    onJob: sayJob,
  });
  // The last resort when something exits without the drain: the worker's servers go with it.
  const killServers = () => runtime.supervisor?.killNow();
  process.on('exit', killServers);
  try {
    await worker.start();
  } catch (err) {
    await worker.stop(true).catch(() => undefined);
    throw err;
  }
  say(`worker ${worker.id} takes ${types.map((t) => t.name).join(', ')} from ${target.shown} (concurrency ${concurrency}); SIGTERM or Ctrl-C drains it`, {
    event: 'worker_started',
    id: worker.id,
    types: types.map((t) => t.name),
    engine: target.shown,
    concurrency,
  });
  await new Promise<void>((resolve) => {
    let draining = false;
    const onSignal = () => {
      if (draining) {
        say('stopping now: cancelling the running jobs', { event: 'worker_forced' });
        void worker.stop(true);
        return;
      }
      draining = true;
      say(`draining: ${worker.busy} job(s) running, no new ones taken`, { event: 'worker_draining', running: worker.busy });
      void worker.stop().finally(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.off('exit', killServers);
  say(`worker ${worker.id} stopped`, { event: 'worker_stopped', id: worker.id });
  out.flush();
  // A Redis client that was reconnecting to a Redis gone for good could keep the process
  // up: the worker is done, so it exits (the exit hooks still flush the audit log).
  setImmediate(() => process.exit(ExitCode.ok)).unref();
  return ExitCode.ok;
}

function jobLine(e: JobEvent): string {
  if (e.phase === 'started') return `started   ${e.job}  ${e.action} on ${e.agent}${e.executions > 1 ? ` (run again: execution ${e.executions})` : ''}`;
  return `${e.ok ? 'finished' : 'failed  '}  ${e.job}${e.error ? `  ${e.error}` : ''}`;
}

/** How long a line of the worker's output may wait for the ones after it. */
const OUTPUT_BATCH_MS = 20;

/**
 * The worker's output: the lines said within a few milliseconds go out in one write. A busy
 * worker says two lines per job, and a write to a pipe or a log file costs more than a
 * no-op job; a person reading it does not see the wait.
 */
function batchedLines(stream: Io['stdout']): { write: (text: string) => void; flush: () => void } {
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending === '') return;
    const text = pending;
    pending = '';
    stream.write(text);
  };
  process.on('exit', flush);
  return {
    write: (text) => {
      pending += text;
      timer ??= setTimeout(flush, OUTPUT_BATCH_MS);
    },
    flush,
  };
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new OrchError('ORCH_USAGE', `${flag} \`${text}\` is not a whole number from 1 to 1000`, { exitCode: ExitCode.usage });
  return n;
}
