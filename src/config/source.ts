import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { ErrorCode } from '../error-codes.js';
import type { Issue } from '../errors.js';
import { parseJsoncSource } from './jsonc-source.js';
import { largestAlias, unresolvedAliasOffset } from './yaml-aliases.js';

/** Larger config files are refused: real ones are a few KiB, and parsing stays well under a second. */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** Alias expansions allowed when a document is converted to data (billion-laughs guard). */
const MAX_ALIAS_COUNT = 100;

export type { KeyPath, ReadResult, SourceFile, Span } from './source-types.js';
import type { KeyPath, ReadResult, Span } from './source-types.js';

export function displayPath(file: string, dir: string): string {
  const rel = path.relative(dir, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Reads and parses one config file, turning every failure into issues: YAML (JSON is
 * YAML too), or `jsonc` for MCP clients' JSON files (comments and trailing commas).
 */
export async function readSource(file: string, dir: string, format: 'yaml' | 'jsonc' = 'yaml'): Promise<ReadResult> {
  const display = displayPath(file, dir);
  const fail = (code: ErrorCode, message: string, hint?: string, line?: number, column?: number): ReadResult => ({
    ok: false,
    issues: [{ severity: 'error', code, message, file: display, line, column, hint }],
  });

  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return fail('ORCH_FILE_UNREADABLE', `${display} is not a regular file`);
    size = info.size;
  } catch (err) {
    return fail('ORCH_FILE_NOT_FOUND', `cannot read ${display}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (size > MAX_CONFIG_BYTES) {
    return fail(
      'ORCH_FILE_TOO_LARGE',
      `${display} is ${(size / 1024 / 1024).toFixed(1)} MiB; config files may be at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`,
      'is this the right file? Config files are normally a few KiB',
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return fail('ORCH_FILE_UNREADABLE', `cannot read ${display}: ${code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})` : code}`, 'make it readable by this user');
  }
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL byte');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('ORCH_FILE_BINARY', `${display} is not a UTF-8 text file`, 'config files are YAML or JSON text');
  }
  return format === 'jsonc' ? parseJsoncSource(text, file, display) : parseSource(text, file, display);
}

/** Parses text already in memory (tests and templates use this too). */
export function parseSource(text: string, file: string, display = file): ReadResult {
  const fail = (code: ErrorCode, message: string, hint?: string, line?: number, column?: number): ReadResult => ({
    ok: false,
    issues: [{ severity: 'error', code, message, file: display, line, column, hint }],
    text,
  });
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found below in one pass; the parser's own check rescans a mapping
    // for every key, which takes seconds on a large one.
    doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  } catch (err) {
    if (err instanceof RangeError) return fail('ORCH_YAML_SYNTAX', `${display} is nested too deeply to parse`);
    throw err;
  }
  const duplicates = doc.errors.length === 0 ? duplicateKeys(doc.contents) : [];
  if (duplicates.length > 0) {
    return {
      ok: false,
      text,
      issues: duplicates.map((offset) => {
        const pos = lineCounter.linePos(offset);
        return {
          severity: 'error' as const,
          code: 'ORCH_YAML_DUPLICATE_KEY',
          message: 'duplicate key: a key may appear only once in a mapping',
          file: display,
          line: pos.line,
          column: pos.col,
          hint: 'remove or rename one of the two entries',
        };
      }),
    };
  }
  if (doc.errors.length > 0) {
    // After the first syntax error the parser's view of the file is unreliable, so later
    // syntax errors are mostly echoes of it; duplicate keys are each real.
    const firstSyntax = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
    const shown = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY' || e === firstSyntax);
    return {
      ok: false,
      text,
      issues: shown.map((e) => {
        // An error found at the end of input (an unclosed bracket) is shown at the end of
        // the last line with content, not on an empty line past it.
        const offset = Math.min(e.pos[0], text.trimEnd().length);
        const pos = lineCounter.linePos(offset);
        const duplicate = e.code === 'DUPLICATE_KEY';
        return {
          severity: 'error' as const,
          code: duplicate ? 'ORCH_YAML_DUPLICATE_KEY' : 'ORCH_YAML_SYNTAX',
          message: duplicate
            ? 'duplicate key: a key may appear only once in a mapping'
            : /call stack/i.test(e.message)
              ? 'nested too deeply to parse'
              : e.code === 'MULTIPLE_DOCS'
                ? 'holds more than one YAML document'
                : firstLine(e.message),
          file: display,
          line: pos.line,
          column: pos.col,
          hint: duplicate ? 'remove or rename one of the two entries' : syntaxHint(e.code),
        };
      }),
    };
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return fail('ORCH_FILE_EMPTY', `${display} is empty`, 'run `orch init --list` for templates to start from');
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const at = (offset: number | undefined): [number?, number?] => {
      if (offset === undefined) return [];
      const pos = lineCounter.linePos(offset);
      return [pos.line, pos.col];
    };
    if (err instanceof ReferenceError && !/excessive alias/i.test(err.message)) {
      const name = /:\s*(\S+)\s*$/.exec(firstLine(err.message))?.[1];
      const message = name ? `alias \`*${name}\` names no anchor \`&${name}\` before it` : firstLine(err.message);
      return fail('ORCH_YAML_SYNTAX', message, 'an alias `*name` needs an anchor `&name` earlier in the file', ...at(unresolvedAliasOffset(doc)));
    }
    if (err instanceof ReferenceError || err instanceof RangeError) {
      const largest = largestAlias(doc);
      const size = largest && Number.isFinite(largest.nodes) ? ` (this alias alone stands for ${largest.nodes.toLocaleString('en')} values)` : '';
      return fail(
        'ORCH_YAML_ALIAS',
        `${display} expands aliases excessively${size}`,
        'use fewer `*alias` references; repeated anchors can make a tiny file huge',
        ...at(largest?.offset),
      );
    }
    throw err;
  }

  // Keys of each mapping, indexed on first use: a file with thousands of problems in one
  // big mapping must not cost a scan of the mapping per problem.
  const index = new WeakMap<object, Map<string, Pair<unknown, unknown>>>();
  const pairOf = (map: YAMLMap<unknown, unknown>, key: string): Pair<unknown, unknown> | undefined => {
    let keys = index.get(map);
    if (!keys) {
      keys = new Map();
      for (const p of map.items) if (isPair(p) && isScalar(p.key) && !keys.has(String(p.key.value))) keys.set(String(p.key.value), p);
      index.set(map, keys);
    }
    return keys.get(key);
  };

  const locate = (keyPath: KeyPath, options: { key?: boolean } = {}): Span => {
    let node: unknown = doc.contents;
    let best: unknown = node;
    for (let i = 0; i < keyPath.length; i++) {
      const segment = keyPath[i];
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = pairOf(node, String(segment));
        if (!pair) break;
        const last = i === keyPath.length - 1;
        if (last && options.key) {
          best = pair.key;
          break;
        }
        node = pair.value;
        best = node ?? pair.key;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (!node) break;
        best = node;
      } else {
        break;
      }
    }
    return spanOf(best as Node | null, lineCounter);
  };

  return { ok: true, source: { file, display, text, data, locate } };
}

/** Offsets of every key that repeats an earlier key of the same mapping, in one pass over the tree. */
function duplicateKeys(root: unknown): number[] {
  const found: number[] = [];
  const seen = new Set<unknown>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!node || seen.has(node)) continue;
    seen.add(node);
    if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (keys.has(key)) found.push(pair.key.range?.[0] ?? 0);
          keys.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return found.sort((a, b) => a - b);
}

function spanOf(node: Node | null | undefined, lineCounter: LineCounter): Span {
  const range = node?.range;
  if (!range) return { line: 1, column: 1, endLine: 1, endColumn: 1 };
  const start = lineCounter.linePos(range[0]);
  const end = lineCounter.linePos(Math.max(range[0], range[1]));
  return { line: start.line, column: start.col, endLine: end.line, endColumn: end.col };
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function syntaxHint(code: string): string | undefined {
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'YAML indents with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'check the indentation of this line against the lines above it';
    case 'MULTIPLE_DOCS':
      return 'one config file holds one YAML document; remove the extra `---`';
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a key must fit on one line; is a `:` or a quote missing above?';
    default:
      return undefined;
  }
}
