import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from '../../../src/mcp/audit.js';
import { Redactor } from '../../../src/secrets/redact.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

const SECRET = 'hunter2-secret-value';
const redactor = new Redactor([SECRET, 'with "quotes" and \\ backslash']);

/** What the log must write for `entry`: JSON.stringify of the entry, its arguments and error redacted. */
function expected(entry: AuditEntry): string {
  const safe: Record<string, unknown> = {
    time: entry.time,
    server: entry.server,
    tool: entry.tool,
    ...(entry.kind === undefined ? {} : { kind: entry.kind }),
    ...Object.fromEntries(Object.entries(entry.ids ?? {}).filter(([, v]) => typeof v === 'string' || typeof v === 'number')),
    arguments: redactor.redact(entry.arguments),
    durationMs: entry.durationMs,
    outcome: entry.outcome,
  };
  if (entry.error) safe.error = { code: entry.error.code, message: redactor.redactString(entry.error.message) };
  return JSON.stringify(safe);
}

class Point {
  constructor(readonly x: number) {}
}

const argumentsTable: [string, unknown][] = [
  ['a plain object', { message: 'hello', count: 3, ok: true, none: null }],
  ['nested objects and arrays', { a: { b: [1, 'two', { c: 'three' }], d: [] }, e: {} }],
  ['a secret value inside a string', { note: `use ${SECRET} here`, list: [SECRET] }],
  ['a secret with characters JSON escapes', { note: 'x with "quotes" and \\ backslash y' }],
  ['values under secret-looking keys', { api_key: 'abc', accessToken: 'def', password: '', token: null, keyword: 'kept' }],
  ['usage counts, which are not secrets', { input_tokens: 12, max_tokens: 100 }],
  ['undefined values and functions', { a: undefined, b: () => 1, c: [undefined, () => 2] }],
  ['a Date and a class instance', { when: new Date(0), at: new Point(1) }],
  ['an object with its own toJSON', { inner: { toJSON: () => 'custom', keep: 1 } }],
  ['an array with its own toJSON', { list: Object.assign([1, 2], { toJSON: () => 'custom' }) }],
  ['an object without a prototype', { bare: Object.assign(Object.create(null) as object, { a: 1 }) }],
  ['strings that need escaping', { text: 'line\nbreak\t"quoted" \\ \u0001 é 😀' }],
  ['numeric-looking keys', { 2: 'b', 1: 'a', z: 'z' }],
  ['no arguments at all', undefined],
];

describe('audit lines', () => {
  it('are exactly JSON.stringify of the redacted entry, whatever the arguments', async () => {
    const file = path.join(dir.dir, 'table', 'audit.jsonl');
    const log = new AuditLog(file, redactor);
    const entries: AuditEntry[] = argumentsTable.map(([name, args], i) => ({
      time: new Date(Date.UTC(2024, 4, 1, 12, 0, 0, i)).toISOString(),
      server: i % 2 === 0 ? 'fs' : 'srv "odd" name',
      tool: name,
      arguments: args,
      durationMs: [0, 1, 0.5, 1.25, 12.345, 1000.001, 0.001, 3.1, 42, 7.77, 123456.789, 2][i] ?? 1,
      outcome: i === 3 ? 'error' : i === 5 ? 'tool_error' : 'ok',
      ...(i === 3 && { error: { code: 'ORCH_TOOL_ERROR', message: `failed with ${SECRET}` } }),
      ...(i % 3 === 1 && { kind: i % 2 === 0 ? 'script' : 'mcp' }),
      ...(i % 4 === 2 && { ids: { run: 'r-1', step: 'build "x"', attempt: 2, agent: undefined, instance: 'worker-1' } }),
    }));
    for (const entry of entries) log.record(entry);
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual(entries.map(expected));
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('write durations as JSON does, however many decimals they have', async () => {
    const file = path.join(dir.dir, 'durations', 'audit.jsonl');
    const log = new AuditLog(file, redactor);
    const durations = [0, 0.1, 0.01, 0.001, 0.12, 0.102, 1.5, 10.25, 99.999, 1e6, 1e6 + 0.5, 0.0001, 1 / 3, -1, Number.NaN, 2 ** 53];
    for (const durationMs of durations) log.record({ time: 't', server: 's', tool: 't', arguments: {}, durationMs, outcome: 'ok' });
    for (let i = 0; i < 2000; i++) {
      const durationMs = Math.round(Math.random() * 10 ** (1 + (i % 9)) * 1000) / 1000;
      durations.push(durationMs);
      log.record({ time: 't', server: 's', tool: 't', arguments: {}, durationMs, outcome: 'ok' });
    }
    log.flush();
    const written = readFileSync(file, 'utf8').trim().split('\n').map((l) => /"durationMs":([^,]*),/.exec(l)?.[1]);
    expect(written).toEqual(durations.map((d) => JSON.stringify(d)));
  });
});
