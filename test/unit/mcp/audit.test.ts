import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/mcp/audit.js';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { FAST_POLICY, ProcessWatch, fixture, tempDir } from './helpers.js';

const state = tempDir();
afterAll(() => state.cleanup());

/** Every file under `dir`, with its text. */
function allFiles(dir: string): [string, string][] {
  return readdirSync(dir).flatMap((name): [string, string][] => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? allFiles(file) : [[file, readFileSync(file, 'utf8')]];
  });
}

describe('audit log', () => {
  it('records one line per call with secrets redacted, and no file orch writes holds a secret', async () => {
    const watch = new ProcessWatch();
    const secrets = { envToken: 'tok-from-orch-env-42', serverEnv: 'server-env-value-77', keyed: 'plain-but-keyed' };
    const supervisor = new Supervisor(
      [fixture('fx', 'echo.mjs', { env: { SERVICE_URL: secrets.serverEnv } }), fixture('crashy', 'crashy.mjs')],
      { stateDir: state.dir, env: { ...process.env, DEPLOY_TOKEN: secrets.envToken }, policy: FAST_POLICY },
    );
    try {
      await supervisor.callTool('fx', 'echo', { message: `use ${secrets.envToken} and ${secrets.serverEnv}`, api_key: secrets.keyed });
      watch.snapshot();
      await expect(supervisor.callTool('crashy', 'crash', { note: secrets.serverEnv })).rejects.toMatchObject({ code: 'ORCH_SERVER_EXITED' });
    } finally {
      await supervisor.shutdown();
    }
    expect(watch.leftovers()).toEqual([]);

    const lines = readFileSync(path.join(state.dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    const entries = lines.map((l): AuditEntry => JSON.parse(l));
    expect(entries.map((e) => [e.server, e.tool, e.outcome])).toEqual([
      ['fx', 'echo', 'ok'],
      ['crashy', 'crash', 'error'],
    ]);
    expect(entries[0]?.arguments).toEqual({ message: 'use [REDACTED] and [REDACTED]', api_key: '[REDACTED]' });
    expect(entries[1]?.error?.code).toBe('ORCH_SERVER_EXITED');
    expect(entries.every((e) => typeof e.durationMs === 'number' && typeof e.time === 'string' && !Number.isNaN(Date.parse(String(e.time))))).toBe(true);

    const files = allFiles(state.dir);
    expect(files.length).toBeGreaterThan(0);
    for (const [file, text] of files) {
      for (const secret of Object.values(secrets)) expect(text.includes(secret), `${secret} in ${file}`).toBe(false);
    }
  });
});
