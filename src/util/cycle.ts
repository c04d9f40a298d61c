/**
 * The first cycle in a dependency graph (node → the nodes it depends on), as the path
 * from a node back to itself, e.g. `['a', 'c', 'b', 'a']`; undefined when there is none.
 * Dependencies on unknown nodes are ignored (they are reported on their own).
 */
export function findCycle(dependsOn: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const mark = state.get(id);
    if (mark === 'done') return undefined;
    if (mark === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of dependsOn.get(id) ?? []) {
      if (!dependsOn.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of dependsOn.keys()) {
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}
