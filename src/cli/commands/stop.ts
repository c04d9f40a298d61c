import path from 'node:path';
import { parseDuration } from '../../config/duration.js';
import { inspectProject } from '../../config/load.js';
import { ConfigError, ExitCode, OrchError } from '../../errors.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { currentUser } from '../../workflow/session.js';
import { queueEngineKillSwitch, stopAll, stopRun, type StoppedProcess } from '../../workflow/kill-switch.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';

interface StopFlags {
  all?: boolean;
  timeout?: string;
  engine?: string;
}

/** How long a run's process gets to stop by itself before it is killed, unless `--timeout` says. */
const DEFAULT_TERM_MS = 10_000;

/**
 * The kill switch acts on a project's state whatever its configuration says (a broken
 * agent-team.yaml must not keep runs going), but only in a project: `-C` into the wrong
 * folder is an error, not a switch set where nothing reads it.
 */
export async function assertProject(globals: GlobalOptions): Promise<void> {
  const { files, issues, texts } = await inspectProject({ dir: globals.dir, config: globals.config, team: globals.team });
  if (files.gantz === undefined && files.team === undefined && files.mcp === undefined) throw new ConfigError(issues, texts);
}

/** `--engine`, else ORCH_ENGINE: the queue engine whose queues the switch also pauses. */
export function engineOf(flags: { engine?: string }): string | undefined {
  const url = flags.engine ?? process.env.ORCH_ENGINE;
  return url === undefined || url === '' ? undefined : url;
}

function termMsOf(given: string | undefined): number {
  if (given === undefined) return DEFAULT_TERM_MS;
  const ms = parseDuration(/^\d+$/.test(given.trim()) ? `${given.trim()}s` : given);
  if (ms === undefined || ms < 0) {
    throw new OrchError('ORCH_USAGE', `--timeout ${given} is not a duration`, { hint: 'e.g. --timeout 10s, --timeout 500ms, --timeout 1m' });
  }
  return ms;
}

/** `orch stop <run>` / `orch stop --all`: the kill switch. */
export async function run(globals: GlobalOptions, runId: string | undefined, flags: StopFlags, _command?: unknown, io: Io = processIo): Promise<number> {
  if ((runId === undefined) === (flags.all !== true)) {
    throw new OrchError('ORCH_USAGE', runId === undefined ? 'name the run to stop, or stop every run with --all' : 'give a run id or --all, not both', {
      hint: 'orch stop <run> stops one run; orch stop --all stops every run and keeps new ones from starting until `orch start --all`',
    });
  }
  const termMs = termMsOf(flags.timeout);
  await assertProject(globals);
  const stateDir = resolveStateDir(globals.dir);
  const scope = { dir: globals.dir, stateDir, engineUrl: engineOf(flags), runId };
  const cd = globals.dir === process.cwd() ? '' : ` -C ${JSON.stringify(path.relative(process.cwd(), globals.dir) || '.')}`;
  if (runId !== undefined) {
    const result = await stopRun(stateDir, runId, { termMs });
    const reached = await queueEngineKillSwitch(scope, 'stop');
    if (globals.json) io.stdout.write(`${JSON.stringify({ run_id: runId, was: result.status, stopped: result.stopped ? shown(result.stopped) : null }, null, 2)}\n`);
    else if (!globals.quiet) {
      if (!result.stopped) io.stdout.write(`run ${runId} is not running (${result.status}); nothing to stop\n`);
      else io.stdout.write(`${describe(result.stopped)}\nContinue it with: orch${cd} resume ${runId}   (finished steps are not run again)\n`);
    }
    if (!reached) warnEngine(io, scope.engineUrl);
    return ExitCode.ok;
  }
  const { stopped, failed } = await stopAll(stateDir, { termMs, by: currentUser() });
  const reached = await queueEngineKillSwitch(scope, 'stop');
  if (globals.json) {
    const failures = failed.map((f) => ({ pid: f.pid, runs: f.runs, tasks: f.tasks, code: f.error.code, message: f.error.message }));
    io.stdout.write(`${JSON.stringify({ halted: true, stopped: stopped.map(shown), ...(failures.length > 0 && { failed: failures }) }, null, 2)}\n`);
  } else if (!globals.quiet) {
    const lines = [`Kill switch on: no new run starts in this project until \`orch${cd} start --all\`.`];
    if (stopped.length === 0 && failed.length === 0) lines.push('Nothing was running.');
    for (const s of stopped) lines.push(describe(s));
    const runs = stopped.flatMap((s) => s.runs);
    if (runs.length > 0) lines.push('Continue a run with:', ...runs.map((r) => `  orch${cd} resume ${r}`));
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  if (!reached) warnEngine(io, scope.engineUrl);
  // What could not be stopped is an error of its own, after what was: the switch is on either way.
  if (!globals.json) for (const f of failed) io.stderr.write(`error ${f.error.code} ${f.error.message}\n  hint: ${f.error.hint ?? ''}\n`);
  return failed.length > 0 ? ExitCode.runFailed : ExitCode.ok;
}

function shown(s: StoppedProcess): Record<string, unknown> {
  return { pid: s.pid, runs: s.runs, tasks: s.tasks, forced: s.forced };
}

function describe(s: StoppedProcess): string {
  const what = [...s.runs.map((r) => `run ${r}`), ...s.tasks.map((t) => `task ${t}`)].join(', ') || 'a tool run';
  const how = s.forced ? 'killed with its processes (it did not stop after SIGTERM in time)' : 'stopped';
  return `${what}: process ${s.pid} ${how}${s.runs.length > 0 ? '; journalled interrupted' : ''}`;
}

function warnEngine(io: Io, url: string | undefined): void {
  io.stderr.write(`warning: this orch cannot reach the queue engine ${url ?? ''} to pause its queues; only this machine's runs were stopped\n`);
}
