import { resolveType } from '../plan.js';
import { sinkResults } from '../report.js';
import { taskError, type SubtaskSpec } from '../task-spec.js';
import type { Pattern, PatternContext } from './pattern.js';
import type { Subtask } from '../plan.js';

/** One orchestrator dispatches every subtask to a pool, in parallel as dependencies allow. */
export const centralized: Pattern = (spec, ctx) => {
  const subtasks = flat(spec.subtasks, ctx, 'centralized');
  return { subtasks, combine: (results) => ({ result: sinkResults(subtasks, results) }) };
};

/** The subtasks of a pattern without nesting, each with its agent type resolved. */
export function flat(specs: readonly SubtaskSpec[], ctx: PatternContext, pattern: string): Subtask[] {
  return specs.map((s) => {
    if (s.subtasks.length > 0) throw taskError(`subtask \`${s.id}\` has subtasks of its own, which ${pattern} coordination does not run`, 'use "coordination": "hierarchical" for managers with sub-teams');
    return { id: s.id, agentType: resolveType(ctx, s.id, s.tool, s.agentType), tool: s.tool, input: s.input, dependsOn: s.dependsOn };
  });
}

/** Patterns that fix the order themselves refuse `depends_on` rather than ignore it. */
export function noDependencies(specs: readonly SubtaskSpec[], pattern: string): void {
  const withDeps = specs.find((s) => s.dependsOn.length > 0);
  if (withDeps) throw taskError(`subtask \`${withDeps.id}\` has depends_on, but ${pattern} coordination decides the order itself`, 'drop depends_on, or use "coordination": "centralized" for a dependency graph');
}
