import { describe, expect, it } from 'vitest';
import { formatJsonProblem, jsonSyntaxProblem, parseJsonText } from '../../../src/util/json-text.js';

describe('JSON text from the command line', () => {
  it("says where and what for the seeds' literal `{...}`", () => {
    const text = '{"type": "analysis", "data": {...}}';
    const parsed = parseJsonText(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem).toMatchObject({ line: 1, column: 31, message: expect.stringContaining('"..."') });
    expect(formatJsonProblem('--task', text, parsed.problem)).toBe(
      '--task is not valid JSON at column 31: found "...", which stands for "and so on" in examples, not for JSON\n' +
        `    ${text}\n` +
        `    ${' '.repeat(30)}^`,
    );
  });

  it.each([
    ["{'a': 1}", 2, 'found', 'double quotes'],
    ['{"a": 1,}', 9, 'trailing comma', 'remove the comma'],
    ['[1, 2', 6, 'expected "]"', undefined],
    ['{"a": 1} x', 10, 'after the end', undefined],
    ['{"a": NaN}', 7, 'unexpected', undefined],
    ['{"a": "x\\q"}', 9, 'not a JSON escape', undefined],
  ])('%s: column %i', (text, column, message, hint) => {
    const parsed = parseJsonText(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem.column).toBe(column);
    expect(parsed.problem.message).toContain(message);
    if (hint) expect(parsed.problem.hint).toContain(hint);
  });

  it('gives line and column in text of several lines, and cuts a long line around the spot', () => {
    const parsed = parseJsonText('{\n  "a": 1\n  "b": 2\n}');
    expect(parsed.ok ? undefined : [parsed.problem.line, parsed.problem.column]).toEqual([3, 3]);
    const long = `{"items": [${'1, '.repeat(100)}oops]}`;
    const problem = jsonSyntaxProblem(long);
    expect(problem).toBeDefined();
    if (!problem) return;
    const frame = formatJsonProblem('--input', long, problem).split('\n');
    expect(frame[1]?.length).toBeLessThan(90);
    expect(frame[1]?.[(frame[2]?.indexOf('^') ?? 0)]).toBe('o');
  });

  it('accepts valid JSON, and JSONC only where asked', () => {
    expect(parseJsonText('{"a": [1, {"b": null}]}')).toEqual({ ok: true, value: { a: [1, { b: null }] } });
    expect(jsonSyntaxProblem('// c\n{"a": 1,}', { jsonc: true })).toBeUndefined();
    expect(jsonSyntaxProblem('// c\n{"a": 1}')).toBeDefined();
  });
});
