import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { readRepoFile, sourceFiles } from '../helpers/source-files.js';

/**
 * The layers of src, bottom to top: a file may import its own folder and lower layers,
 * never a higher one. Units in one layer do not import each other (orchestration and
 * workflow are alternatives over the engine), except in the bottom layer, whose shared
 * utilities may build on each other (the cycle check keeps them in some order). The API
 * (index.ts) sits below the CLI, so the CLI can be a thin layer over it.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'error-codes.ts', 'util', 'lang', 'secrets', 'process'],
  ['config'],
  ['state'],
  ['mcp', 'llm'],
  ['tools'],
  ['agents'],
  ['engine'],
  ['orchestration', 'workflow'],
  ['deploy'],
  ['serve'],
  ['index.ts'],
  ['cli'],
];

/** Upward imports still to be removed; a test below fails while an entry is stale. None are left. */
const KNOWN_VIOLATIONS: readonly string[] = [];

/** `src/cli/main.ts` → `cli`; `src/errors.ts` → `errors.ts`. */
function unitOf(file: string): string {
  return file.split('/')[1] ?? file;
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

/** Each file's relative imports inside src: static, `export ... from`, type-only and dynamic `import()`. */
function importGraph(): Map<string, string[]> {
  const files = sourceFiles();
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readRepoFile(file), true, true);
    const targets = importedFiles
      .map((ref) => ref.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): the import cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) ?? 0);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      onStack.delete(top);
      component.push(top);
      if (top === file) break;
    }
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

function upwardImports(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(unitOf(file));
    for (const target of targets) {
      if (unitOf(target) === unitOf(file)) continue;
      const to = layerOf(unitOf(target));
      if (to > from || (to === from && from !== 0)) out.push(`${file} -> ${target}`);
    }
  }
  return out.sort();
}

describe('the import graph of src', () => {
  const graph = importGraph();

  it('has no cycle', () => {
    // A known upward import closes a cycle through the layers below it; it is listed once, there.
    const allowed = new Map(
      [...graph].map(([file, targets]) => [file, targets.filter((target) => !KNOWN_VIOLATIONS.includes(`${file} -> ${target}`))]),
    );
    expect(cycles(allowed)).toEqual([]);
  });

  it('places every file in a layer', () => {
    const unplaced = [...new Set([...graph.keys()].map(unitOf))].filter((unit) => layerOf(unit) === -1);
    expect(unplaced, 'add each new folder or root file of src to LAYERS').toEqual([]);
  });

  it('never imports a higher layer, nor a sibling in the same layer', () => {
    expect(upwardImports(graph).filter((edge) => !KNOWN_VIOLATIONS.includes(edge))).toEqual([]);
  });

  it('lists only known violations that still occur', () => {
    const current = new Set(upwardImports(graph));
    expect(KNOWN_VIOLATIONS.filter((edge) => !current.has(edge)), 'delete these entries from KNOWN_VIOLATIONS').toEqual([]);
  });
});
