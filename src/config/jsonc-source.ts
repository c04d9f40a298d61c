import { getNodeValue, parseTree, stripComments, type Node, type ParseError } from 'jsonc-parser';
import type { Issue } from '../errors.js';
import { jsonSyntaxProblem, positionOf } from '../util/json-text.js';
import type { KeyPath, ReadResult, Span } from './source-types.js';

/**
 * Parses an MCP client's JSON file (`.mcp.json`, VS Code's `mcp.json`) as those clients do:
 * JSON with comments and trailing commas, nothing more (no single quotes, no bare words).
 * Positions come from the parse tree, so every later issue points at `file:line:col`.
 */
export function parseJsoncSource(text: string, file: string, display = file): ReadResult {
  const fail = (issues: Issue[]): ReadResult => ({ ok: false, issues, text });
  if (stripComments(text).trim() === '') {
    return fail([{ severity: 'error', code: 'ORCH_FILE_EMPTY', message: `${display} is empty`, file: display, hint: 'write {"mcpServers": {}} and add servers to it' }]);
  }
  let root: Node | undefined;
  let data: unknown;
  try {
    const errors: ParseError[] = [];
    root = parseTree(text, errors, { disallowComments: false, allowTrailingComma: true, allowEmptyContent: false });
    const problem = errors.length > 0 ? jsonSyntaxProblem(text, { jsonc: true }) : undefined;
    if (problem) {
      return fail([{ severity: 'error', code: 'ORCH_JSON_SYNTAX', message: problem.message, file: display, line: problem.line, column: problem.column, hint: problem.hint }]);
    }
    data = root === undefined ? undefined : (getNodeValue(root) as unknown);
  } catch (err) {
    if (err instanceof RangeError) return fail([{ severity: 'error', code: 'ORCH_JSON_SYNTAX', message: `${display} is nested too deeply to parse`, file: display }]);
    throw err;
  }
  if (!root) return fail([{ severity: 'error', code: 'ORCH_FILE_EMPTY', message: `${display} is empty`, file: display }]);

  const duplicates = duplicateKeys(root);
  if (duplicates.length > 0) {
    return fail(
      duplicates.map((offset) => ({
        severity: 'error' as const,
        code: 'ORCH_JSON_DUPLICATE_KEY' as const,
        message: 'duplicate key: a key may appear only once in an object',
        file: display,
        ...positionOf(text, offset),
        hint: 'remove or rename one of the two entries',
      })),
    );
  }

  const span = (node: Node): Span => {
    const start = positionOf(text, node.offset);
    const end = positionOf(text, node.offset + node.length);
    return { line: start.line, column: start.column, endLine: end.line, endColumn: end.column };
  };
  const locate = (keyPath: KeyPath, options: { key?: boolean } = {}): Span => {
    let node: Node = root;
    for (let i = 0; i < keyPath.length; i++) {
      const segment = keyPath[i];
      let next: Node | undefined;
      if (node.type === 'object') {
        const property = node.children?.find((p) => p.children?.[0]?.value === String(segment));
        if (!property) break;
        if (i === keyPath.length - 1 && options.key && property.children?.[0]) return span(property.children[0]);
        next = property.children?.[1];
      } else if (node.type === 'array' && typeof segment === 'number') {
        next = node.children?.[segment];
      }
      if (!next) break;
      node = next;
    }
    return span(node);
  };
  return { ok: true, source: { file, display, text, data, locate } };
}

/** Offsets of every key that repeats an earlier key of the same object. */
function duplicateKeys(root: Node): number[] {
  const found: number[] = [];
  const stack: Node[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.type === 'object') {
      const keys = new Set<unknown>();
      for (const property of node.children ?? []) {
        const key = property.children?.[0];
        if (key && keys.has(key.value)) found.push(key.offset);
        if (key) keys.add(key.value);
        const value = property.children?.[1];
        if (value) stack.push(value);
      }
    } else if (node.type === 'array') {
      stack.push(...(node.children ?? []));
    }
  }
  return found.sort((a, b) => a - b);
}
