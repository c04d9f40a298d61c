import { referencedIds } from '../refs.js';
import { taskError } from '../task-spec.js';
import { flat, noDependencies } from './centralized.js';
import { takesParam, type Pattern } from './pattern.js';

/** Stages in the order listed; each stage receives the previous stage's output. */
export const pipeline: Pattern = (spec, ctx) => {
  noDependencies(spec.subtasks, 'pipeline');
  const param = spec.pipeParam;
  const stages = flat(spec.subtasks, ctx, 'pipeline').map((stage, i, all) => {
    const previous = all[i - 1];
    if (!previous) return stage;
    if (stage.input[param] !== undefined || referencedIds(stage.input).size > 0) return { ...stage, dependsOn: [previous.id] };
    if (!takesParam(ctx.project, stage, param)) {
      throw taskError(`pipeline stage \`${stage.id}\`: tool \`${stage.tool ?? ''}\` has no parameter \`${param}\` to receive the output of \`${previous.id}\``, `declare a \`${param}\` parameter, set "pipe_param" on the task, or refer to it explicitly: {"$from": "${previous.id}"}`);
    }
    return { ...stage, input: { ...stage.input, [param]: { $from: previous.id } }, dependsOn: [previous.id] };
  });
  const last = stages[stages.length - 1];
  return {
    subtasks: stages,
    combine: (results) => {
      const end = last ? results.get(last.id) : undefined;
      return { result: end?.status === 'succeeded' ? end.result : null };
    },
  };
};
