import path from 'node:path';
import { ExitCode, OrchError } from '../../errors.js';
import { clearHalt } from '../../state/halt.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { loadRun } from '../../state/runs.js';
import { queueEngineKillSwitch } from '../../workflow/kill-switch.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { assertProject, engineOf } from './stop.js';

/** `orch start --all`: lifts the kill switch `orch stop --all` set. */
export async function run(globals: GlobalOptions, flags: { all?: boolean; engine?: string }, _command?: unknown, io: Io = processIo): Promise<number> {
  if (flags.all !== true) {
    throw new OrchError('ORCH_USAGE', '`orch start` takes --all: it lifts the kill switch of `orch stop --all`', {
      hint: 'to continue one stopped run: orch resume <run>',
    });
  }
  await assertProject(globals);
  const stateDir = resolveStateDir(globals.dir);
  const halt = await clearHalt(stateDir);
  const reached = await queueEngineKillSwitch({ dir: globals.dir, stateDir, engineUrl: engineOf(flags) }, 'start');
  // Runs resumed since the stop are not worth naming again.
  const waiting: string[] = [];
  for (const id of halt?.stopped ?? []) {
    const state = await loadRun(stateDir, id).catch(() => undefined);
    if (state?.status === 'interrupted') waiting.push(id);
  }
  if (globals.json) io.stdout.write(`${JSON.stringify({ halted: false, was_halted: halt !== undefined, interrupted: waiting }, null, 2)}\n`);
  else if (!globals.quiet) {
    const cd = globals.dir === process.cwd() ? '' : ` -C ${JSON.stringify(path.relative(process.cwd(), globals.dir) || '.')}`;
    const lines = [halt ? 'Kill switch off: runs may start again.' : 'The kill switch was not on; runs may start.'];
    if (waiting.length > 0) lines.push('Runs it stopped, to continue:', ...waiting.map((r) => `  orch${cd} resume ${r}`));
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  if (!reached) io.stderr.write(`warning: this orch cannot reach the queue engine ${engineOf(flags) ?? ''} to resume its queues\n`);
  return ExitCode.ok;
}
