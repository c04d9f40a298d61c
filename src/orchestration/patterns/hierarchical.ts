import type { Subtask } from '../plan.js';
import { resolveType } from '../plan.js';
import { referencedIds } from '../refs.js';
import { sinkResults } from '../report.js';
import type { SubtaskSpec } from '../task-spec.js';
import { takesParam, type Pattern, type PatternContext } from './pattern.js';

/**
 * Managers delegate to sub-teams: a subtask with `subtasks` runs after all of them, gets
 * their results (as its `results` parameter when its tool declares one) or, without a
 * tool, simply gathers them. Sub-team members default to the manager's `delegate_to`.
 */
export const hierarchical: Pattern = (spec, ctx) => {
  const subtasks: Subtask[] = [];
  const parents: Record<string, string> = {};
  const visit = (node: SubtaskSpec, inherited: string | undefined, parent: string | undefined): void => {
    if (parent !== undefined) parents[node.id] = parent;
    for (const child of node.subtasks) visit(child, node.delegateTo ?? inherited, node.id);
    subtasks.push(toSubtask(node, inherited, ctx));
  };
  for (const root of spec.subtasks) visit(root, undefined, undefined);
  return { subtasks, combine: (results) => ({ result: sinkResults(subtasks, results), details: { reports_to: parents } }) };
};

function toSubtask(node: SubtaskSpec, inherited: string | undefined, ctx: PatternContext): Subtask {
  const team = node.subtasks.map((c) => c.id);
  const agentType = resolveType(ctx, node.id, node.tool, node.agentType ?? (node.tool === undefined ? undefined : inherited));
  const inject = team.length > 0 && referencedIds(node.input).size === 0 && takesParam(ctx.project, { agentType, tool: node.tool }, 'results');
  return {
    id: node.id,
    agentType,
    tool: node.tool,
    input: inject ? { ...node.input, results: { $from: team } } : node.input,
    dependsOn: [...node.dependsOn, ...team],
  };
}
