import { Chalk, type ChalkInstance } from 'chalk';
import { ConfigError, isOrchError, type Issue } from '../../errors.js';

export interface ReportOptions {
  stream: NodeJS.WritableStream;
  color: boolean;
}

function painter(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

/** Errors printed in full before the rest are counted. */
const MAX_SHOWN = 100;

/** Lines of each file's text, split once however many issues point into it. */
const linesOf = new WeakMap<object, Map<string, string[]>>();
function sourceLine(texts: ReadonlyMap<string, string>, file: string, line: number): string | undefined {
  let cache = linesOf.get(texts);
  if (!cache) linesOf.set(texts, (cache = new Map()));
  let lines = cache.get(file);
  if (!lines) {
    const text = texts.get(file);
    if (text === undefined) return undefined;
    cache.set(file, (lines = text.split(/\r?\n/)));
  }
  return lines[line - 1];
}

/** `file:line:col severity CODE message`, then the source line with a caret, then the hint. */
export function formatIssue(issue: Issue, texts: ReadonlyMap<string, string>, color: boolean): string {
  const c = painter(color);
  const where = [issue.file, issue.line, issue.line !== undefined ? issue.column : undefined].filter((p) => p !== undefined).join(':');
  const severity = issue.severity === 'error' ? c.red('error') : c.yellow('warning');
  const lines = [`${c.bold(where)} ${severity} ${c.dim(issue.code)} ${issue.message}`];
  const source = issue.line === undefined ? undefined : sourceLine(texts, issue.file, issue.line);
  if (source !== undefined) lines.push(...codeFrame(source, issue, c));
  if (issue.hint) lines.push(`  ${c.cyan('hint:')} ${issue.hint}`);
  return lines.join('\n');
}

function codeFrame(source: string, issue: Issue, c: ChalkInstance): string[] {
  const line = issue.line ?? 1;
  const shown = source.replace(/\t/g, ' ');
  if (shown.length > 160) return [];
  const column = Math.max(1, issue.column ?? 1);
  // Underline the node on its first line; a multi-line node gets a single caret.
  const end = issue.endLine === line && issue.endColumn !== undefined ? issue.endColumn : column + 1;
  const width = Math.max(1, Math.min(end, shown.trimEnd().length + 1) - column);
  const gutter = String(line);
  return [
    `  ${c.dim(`${gutter} |`)} ${shown}`,
    `  ${' '.repeat(gutter.length)} ${c.dim('|')} ${' '.repeat(column - 1)}${c.red('^'.repeat(width))}`,
  ];
}

/**
 * Every issue, errors first, then a one-line count. Errors get a code frame; warnings
 * stay one line each (their hint shown once per code) unless `verbose`.
 */
export function formatIssues(
  issues: readonly Issue[],
  texts: ReadonlyMap<string, string>,
  color: boolean,
  verbose = false,
): string {
  const errorList = issues.filter((i) => i.severity === 'error');
  const warningList = issues.filter((i) => i.severity !== 'error');
  const errors = errorList.length;
  const warnings = warningList.length;
  // A file broken in thousands of places is better fixed from the first hundred.
  const limit = verbose ? Infinity : MAX_SHOWN;
  const parts = errorList.slice(0, limit).map((i) => formatIssue(i, texts, color));
  if (errors > limit) parts.push(`… and ${errors - limit} more errors (--verbose or --json shows them all)`);
  if (verbose) parts.push(...warningList.map((i) => formatIssue(i, texts, color)));
  else if (warnings > 0) {
    const hinted = new Set<string>();
    const lines = warningList.map((i) => {
      const hint = i.hint && !hinted.has(i.code) ? i.hint : undefined;
      hinted.add(i.code);
      return formatIssue({ ...i, hint }, new Map(), color);
    });
    parts.push(lines.join('\n'));
  }
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  parts.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return parts.join('\n\n');
}

/** Prints an error for a person: user errors without a stack, bugs with one and a plea to report. */
export function printError(err: unknown, { stream, color }: ReportOptions): void {
  const c = painter(color);
  if (err instanceof ConfigError) {
    stream.write(`${formatIssues(err.issues, err.texts, color)}\n`);
    return;
  }
  if (isOrchError(err)) {
    const loc = err.location;
    const where = loc ? `${[loc.file, loc.line, loc.column].filter((p) => p !== undefined).join(':')} ` : '';
    stream.write(`${where}${c.red('error')} ${c.dim(err.code)} ${err.message}\n`);
    if (err.hint) stream.write(`  ${c.cyan('hint:')} ${err.hint}\n`);
    return;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  stream.write(`${c.red('internal error')} (a bug in orch, not in your files): ${stack}\n`);
  stream.write('Please report it with the command you ran and the output above.\n');
}
