/** A node of a scheduler's graph: what it needs, and whether it is sent to the engine as a task. */
export interface GraphNode {
  id: string;
  needs: readonly string[];
  /** Sent as a task (a manager that only gathers its sub-team's results is not). */
  task: boolean;
}

/**
 * The fan-ins of a graph, for a queue engine to add as BullMQ flows: a task that needs two
 * or more others is the parent of those of its inputs that feed it alone (a job has one
 * parent: an input other tasks need too stays a job of its own). Returns each such input's
 * fan-in.
 */
export function fanIns<N extends GraphNode>(nodes: readonly N[]): Map<string, N> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const dependents = new Map<string, number>();
  for (const n of nodes) for (const need of new Set(n.needs)) dependents.set(need, (dependents.get(need) ?? 0) + 1);
  const parents = new Map<string, N>();
  for (const n of nodes) {
    const needs = new Set(n.needs);
    if (!n.task || needs.size < 2) continue;
    for (const need of needs) if (byId.get(need)?.task && dependents.get(need) === 1) parents.set(need, n);
  }
  return parents;
}
