import { loadProject } from '../../config/load.js';
import { ExitCode } from '../../errors.js';
import { orchestration } from '../../orchestration/context.js';
import { scale } from '../../orchestration/scale.js';
import { resolveStateDir } from '../../state/state-dir.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';

interface ScaleFlags {
  agentType?: string;
  count?: string;
}

/** `orch scale --agent-type T --count N`: the `scale_agents` call, without declaring it. */
export async function run(globals: GlobalOptions, flags: ScaleFlags, _command: unknown, io: Io = processIo): Promise<number> {
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const orch = orchestration({ project, stateDir: resolveStateDir(project.dir) });
  const count = flags.count === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(flags.count.trim()) ? Number(flags.count) : flags.count;
  const result = await scale(orch, { agent_type: flags.agentType, count });
  if (globals.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (!globals.quiet) {
    const changed = result.action === 'scale_up' ? `added ${result.agents_added.join(', ') || 'none'}` : `removed ${result.agents_removed.join(', ') || 'none'}`;
    const draining = result.action === 'scale_down' && result.draining.length ? `; ${result.draining.join(', ')} will leave when their tasks end` : '';
    io.stdout.write(`${result.agent_type}: ${result.previous_count} → ${result.new_count} (${changed}${draining})\n`);
  }
  return ExitCode.ok;
}
