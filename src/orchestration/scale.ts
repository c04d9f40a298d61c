import { requireType } from '../agents/agent-types.js';
import { scalePool, type ScaleResult } from '../agents/pool.js';
import { MAX_POOL_SIZE } from '../config/limits.js';
import { ExitCode, OrchError } from '../errors.js';
import type { HandlerContext } from '../tools/module.js';
import { engineTarget } from '../engine/redis/target.js';
import { orchestration, type Orchestration } from './context.js';


/** `scale_agents(agent_type, count)`: sets a pool's size; busy instances drain. */
export function scaleAgents(params: Record<string, unknown>, ctx: HandlerContext): Promise<ScaleResult> {
  return scale(orchestration(ctx), params);
}

/** The same for `orch scale`, which needs no declared tool to scale a pool. */
export async function scale(orch: Orchestration, params: Record<string, unknown>): Promise<ScaleResult> {
  const typeName = params.agent_type;
  if (typeof typeName !== 'string') throw new OrchError('ORCH_INPUT', '`agent_type` must be a string', { exitCode: ExitCode.usage });
  const type = requireType(orch.types, typeName);
  const count = checkCount(params.count);
  const target = engineTarget(orch.project);
  if (target) {
    const { RedisEngine } = await import('../engine/redis/redis-engine.js');
    return new RedisEngine({ project: orch.project, target }).scale(type, count);
  }
  return orch.agents.update((registry) => scalePool(registry, type, count));
}

export function checkCount(count: unknown): number {
  if (count === undefined) {
    throw new OrchError('ORCH_INPUT', 'give the pool size: `count`', { hint: 'orch scale --agent-type worker --count 10', exitCode: ExitCode.usage });
  }
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_POOL_SIZE) {
    throw new OrchError('ORCH_INPUT', `count must be a whole number from 0 to ${MAX_POOL_SIZE}, not ${JSON.stringify(count)}`, { exitCode: ExitCode.usage });
  }
  return count;
}
