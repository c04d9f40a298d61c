import { isAlias, isCollection, isPair, visit, type Alias, type Document } from 'yaml';

/** Every alias node of a document, in document order. */
function aliases(doc: Document.Parsed): Alias[] {
  const found: Alias[] = [];
  visit(doc, {
    Alias(_key, node) {
      found.push(node);
    },
  });
  return found;
}

/** Offset of the first alias naming no anchor before it, for `file:line:col`. */
export function unresolvedAliasOffset(doc: Document.Parsed): number | undefined {
  return aliases(doc).find((a) => a.resolve(doc) === undefined)?.range?.[0];
}

/**
 * The alias that expands to the most nodes, and how many: where an alias bomb is set off
 * (a `tools: *i` whose anchor nests aliases of aliases). Sizes are memoised per node, so
 * the count itself costs no expansion; an alias inside its own anchor counts as endless.
 */
export function largestAlias(doc: Document.Parsed): { offset: number; nodes: number } | undefined {
  const sizes = new Map<unknown, number>();
  const size = (node: unknown): number => {
    if (isAlias(node)) return size(node.resolve(doc));
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, Number.POSITIVE_INFINITY); // in progress: a cycle
    let total = 1;
    for (const item of node.items) total += isPair(item) ? size(item.key) + size(item.value) : size(item);
    sizes.set(node, total);
    return total;
  };
  let best: { offset: number; nodes: number } | undefined;
  for (const alias of aliases(doc)) {
    const nodes = size(alias);
    if (alias.range && (!best || nodes > best.nodes)) best = { offset: alias.range[0], nodes };
  }
  return best;
}
