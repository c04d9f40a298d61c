import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLogFor, defaultInterceptors } from '../../../src/agents/interceptors.js';
import { callTool } from '../../../src/agents/runtime.js';
import { AuditLog } from '../../../src/mcp/audit.js';
import { Redactor } from '../../../src/secrets/redact.js';
import { moduleHandler, project, tool } from '../tools/project-helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-audit-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('audit lines, written with their batch', () => {
  it("record each call's arguments as the tool got them, though user code changes the object after the call", async () => {
    const stateDir = path.join(dir, 'reuse');
    const tools = project([tool('reuse', moduleHandler('loop', 'reuse', '.mjs')), tool('echo_n', moduleHandler('loop', 'echoN', '.mjs'), { n: { type: 'number' } })]);
    const ctx = { project: tools, stateDir, signal: new AbortController().signal, interceptors: defaultInterceptors(stateDir, []) };
    expect((await callTool({ kind: 'tool', tool: 'reuse' }, {}, ctx)).value).toEqual([1, 2, 3]);
    auditLogFor(stateDir, new Redactor([])).flush();
    const nested = lines(path.join(stateDir, 'audit.jsonl')).filter((l) => l.tool === 'echo_n');
    expect(nested.map((l) => l.arguments)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('keep the other lines of a batch when one entry cannot be serialised, and say why its arguments are missing', async () => {
    const file = path.join(dir, 'bigint', 'audit.jsonl');
    const log = new AuditLog(file, new Redactor([]));
    log.record({ time: 0, server: 's', tool: 'before', arguments: { a: 1 }, durationMs: 1, outcome: 'ok' });
    log.record({ time: 0, server: 's', tool: 'odd', arguments: { big: 10n }, durationMs: 1, outcome: 'ok' });
    log.record({ time: 0, server: 's', tool: 'after', arguments: { b: 2 }, durationMs: 1, outcome: 'ok' });
    await log.close();
    const written = lines(file);
    expect(written.map((l) => l.tool)).toEqual(['before', 'odd', 'after']);
    expect(written[0]).toMatchObject({ time: '1970-01-01T00:00:00.000Z', arguments: { a: 1 } });
    expect(written[1]?.arguments).toMatch(/^arguments not recorded: .*BigInt/);
    expect(written[2]?.arguments).toEqual({ b: 2 });
  });
});
