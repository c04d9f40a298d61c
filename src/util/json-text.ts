import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** Where JSON text stops being JSON, and why, in words a person can act on. */
export interface JsonSyntaxProblem {
  /** 0-based offset into the text. */
  offset: number;
  /** 1-based. */
  line: number;
  column: number;
  /** What was expected or found, without the position (`expected a property name in double quotes, found "."`). */
  message: string;
  hint?: string;
}

/** 1-based line and column of an offset; columns count UTF-16 code units, as editors' JSON positions do. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** The characters at a problem, for "found ..." (one token's worth). */
function found(text: string, offset: number, length: number): string {
  if (offset >= text.length) return 'the end of the text';
  const token = text.slice(offset, offset + Math.max(1, Math.min(length, 12))).split('\n')[0] ?? '';
  return JSON.stringify(token);
}

/** The words for one of jsonc-parser's error codes. */
function describe(error: ParseError, text: string): { message: string; hint?: string } {
  const at = found(text, error.offset, error.length);
  const char = text[error.offset];
  if ((char === '}' || char === ']') && text.slice(0, error.offset).trimEnd().endsWith(',')) {
    return { message: `a trailing comma before "${char}" is not JSON`, hint: 'remove the comma after the last entry' };
  }
  // The codes are a const enum, which isolated modules cannot read: their names can be.
  switch (printParseErrorCode(error.error)) {
    case 'InvalidSymbol':
      if (char === "'") return { message: `found ${at}`, hint: 'JSON strings and keys use double quotes: "name", not \'name\'' };
      if (text.startsWith('...', error.offset)) {
        return { message: 'found "...", which stands for "and so on" in examples, not for JSON', hint: 'write the data itself, e.g. {"text": "hello"}, or {} for none' };
      }
      if (isJson(text.slice(0, error.offset))) return { message: `unexpected ${at} after the end of the value` };
      return { message: `unexpected ${at}` };
    case 'InvalidNumberFormat':
      return { message: `${at} is not a JSON number` };
    case 'PropertyNameExpected':
      return { message: `expected a property name in double quotes, found ${at}`, hint: 'keys are quoted: {"name": "value"}' };
    case 'ValueExpected':
      return { message: `expected a value, found ${at}` };
    case 'ColonExpected':
      return { message: `expected ":" after the property name, found ${at}` };
    case 'CommaExpected':
      return { message: `expected "," between two entries, found ${at}` };
    case 'CloseBraceExpected':
      return { message: `expected "}" to close the object, found ${at}` };
    case 'CloseBracketExpected':
      return { message: `expected "]" to close the list, found ${at}` };
    case 'EndOfFileExpected':
      return { message: `unexpected ${at} after the end of the value` };
    case 'InvalidCommentToken':
    case 'UnexpectedEndOfComment':
      return { message: 'a comment is not closed', hint: 'close a /* comment */ with */' };
    case 'UnexpectedEndOfString':
      return { message: 'a string is not closed on its line', hint: 'close it with a double quote; write a line break inside a string as \\n' };
    case 'UnexpectedEndOfNumber':
      return { message: `${at} is not a complete number` };
    case 'InvalidUnicode':
      return { message: 'a \\u escape needs four hex digits' };
    case 'InvalidEscapeCharacter':
      return { message: `${at} is not a JSON escape`, hint: 'JSON escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX' };
    case 'InvalidCharacter':
      return { message: 'a control character stands inside a string', hint: 'write it as an escape, e.g. \\t or \\n' };
    default:
      return { message: `unexpected ${at}` };
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Where to point for an error: a bad escape at its backslash rather than at its string's start. */
function pointAt(error: ParseError, text: string): number {
  if (printParseErrorCode(error.error) !== 'InvalidEscapeCharacter') return error.offset;
  const escape = /\\[^"\\/bfnrtu]/.exec(text.slice(error.offset, error.offset + error.length));
  return escape ? error.offset + escape.index : error.offset;
}

/**
 * The first JSON syntax problem of `text`, or undefined when it parses. `jsonc` admits
 * what VS Code and Claude Code admit in their MCP files, comments and trailing commas,
 * and nothing else; without it the text must be plain JSON.
 */
export function jsonSyntaxProblem(text: string, options: { jsonc?: boolean } = {}): JsonSyntaxProblem | undefined {
  const errors: ParseError[] = [];
  const jsonc = options.jsonc === true;
  parse(text, errors, { disallowComments: !jsonc, allowTrailingComma: jsonc, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return undefined;
  // An error found at the end of the text is shown at the end of its last line with content.
  const offset = Math.min(pointAt(first, text), text.trimEnd().length);
  return { offset, ...positionOf(text, offset), ...describe({ ...first, offset }, text) };
}

/** The line of `text` holding `offset`, cut to about `width` characters around it, and the caret's column in it. */
export function excerpt(text: string, offset: number, width = 72): { line: string; caret: number } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const endAt = text.indexOf('\n', offset);
  const full = text.slice(start, endAt === -1 ? text.length : endAt);
  const column = offset - start;
  if (full.length <= width) return { line: full, caret: column };
  const from = Math.max(0, Math.min(column - Math.floor(width / 2), full.length - width));
  const cut = full.slice(from, from + width);
  return { line: `${from > 0 ? '…' : ''}${cut}${from + width < full.length ? '…' : ''}`, caret: column - from + (from > 0 ? 1 : 0) };
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; problem: JsonSyntaxProblem };

/**
 * Parses strict JSON (command-line input); a failure says where (line and column) and what.
 * JSON.parse decides what is valid; jsonc-parser only explains a failure.
 */
export function parseJsonText(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    if (err instanceof RangeError) {
      return { ok: false, problem: { offset: 0, line: 1, column: 1, message: 'nested too deeply to read' } };
    }
    let problem: JsonSyntaxProblem | undefined;
    try {
      problem = jsonSyntaxProblem(text);
    } catch {
      // The explaining parser recurses; past its depth only JSON.parse's words remain.
    }
    if (problem) return { ok: false, problem };
    const message = err instanceof Error ? err.message : String(err);
    const at = /at position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : text.trimEnd().length;
    return { ok: false, problem: { offset, ...positionOf(text, offset), message: message.replace(/ in JSON at position \d+.*$/, '') } };
  }
}

/** `what is not valid JSON: <problem> (line L, column C)`, then the text with a caret under the spot. */
export function formatJsonProblem(what: string, text: string, problem: JsonSyntaxProblem): string {
  const where = text.includes('\n') ? `line ${problem.line}, column ${problem.column}` : `column ${problem.column}`;
  const { line, caret } = excerpt(text, problem.offset);
  return `${what} is not valid JSON at ${where}: ${problem.message}\n    ${line}\n    ${' '.repeat(caret)}^`;
}
