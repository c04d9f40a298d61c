import { resolveType } from '../plan.js';
import { referencedIds } from '../refs.js';
import { flat, noDependencies } from './centralized.js';
import { takesParam, type Pattern } from './pattern.js';

/**
 * Every subtask at once; then, when `fan_in` is given, one subtask that receives all
 * their results (as its `results` parameter, unless its input refers to them itself).
 */
export const fanOut: Pattern = (spec, ctx) => {
  noDependencies(spec.subtasks, 'fan-out');
  const branches = flat(spec.subtasks, ctx, 'fan-out');
  const fanIn = spec.fanIn;
  if (!fanIn) {
    return { subtasks: branches, combine: (results) => ({ result: Object.fromEntries([...results].flatMap(([id, r]) => (r.status === 'succeeded' ? [[id, r.result]] : []))) }) };
  }
  const ids = branches.map((b) => b.id);
  const agentType = resolveType(ctx, fanIn.id, fanIn.tool, fanIn.agentType);
  const inject = referencedIds(fanIn.input).size === 0 && takesParam(ctx.project, { agentType, tool: fanIn.tool }, 'results');
  const gather = {
    id: fanIn.id,
    agentType,
    tool: fanIn.tool,
    input: inject ? { ...fanIn.input, results: { $from: ids } } : fanIn.input,
    dependsOn: ids,
  };
  return {
    subtasks: [...branches, gather],
    combine: (results) => {
      const end = results.get(gather.id);
      return { result: end?.status === 'succeeded' ? end.result : null };
    },
  };
};
