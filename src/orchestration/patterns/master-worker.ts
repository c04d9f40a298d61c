import { typesFor } from '../../agents/agent-types.js';
import { resolveType } from '../plan.js';
import { taskError } from '../task-spec.js';
import { noDependencies } from './centralized.js';
import type { Pattern } from './pattern.js';

/**
 * One shared queue drained by the instances of one worker type: the executor's queue of
 * that type is the queue, each instance takes the next task as soon as it is free.
 */
export const masterWorker: Pattern = (spec, ctx) => {
  noDependencies(spec.subtasks, 'master-worker');
  const tools = [...new Set(spec.subtasks.map((s) => s.tool))];
  const workerType = spec.agentType ?? spec.subtasks.find((s) => s.agentType)?.agentType ?? commonType(tools, ctx.types);
  if (workerType === undefined) {
    throw taskError('master-worker coordination needs one agent type that may run every subtask\'s tool', 'set "agent_type" on the task to the worker type');
  }
  const subtasks = spec.subtasks.map((s) => {
    if (s.agentType !== undefined && s.agentType !== workerType) {
      throw taskError(`subtask \`${s.id}\` asks for agent type \`${s.agentType}\`, but master-worker runs every subtask on \`${workerType}\``);
    }
    return { id: s.id, agentType: resolveType(ctx, s.id, s.tool, workerType), tool: s.tool, input: s.input, dependsOn: [] };
  });
  return {
    subtasks,
    combine: (results) => {
      const perWorker: Record<string, number> = {};
      for (const r of results.values()) if (r.agent_id !== null) perWorker[r.agent_id] = (perWorker[r.agent_id] ?? 0) + 1;
      const result = Object.fromEntries([...results].flatMap(([id, r]) => (r.status === 'succeeded' ? [[id, r.result]] : [])));
      return { result, details: { worker_type: workerType, tasks_per_worker: perWorker } };
    },
  };
};

function commonType(tools: (string | undefined)[], types: Parameters<Pattern>[1]['types']): string | undefined {
  const able = tools.map((t) => new Set(t === undefined ? [] : typesFor(types, t).map((x) => x.name)));
  return [...types.keys()].find((name) => able.every((set) => set.has(name)));
}
