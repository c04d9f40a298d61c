import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load.js';
import { engineTarget, maskPassword, redisOptions } from '../../../src/engine/redis/target.js';
import { isOrchError } from '../../../src/errors.js';
import { tempProject } from '../../helpers/project.js';

const GANTZ = 'name: t\ntools:\n  hi:\n    description: says hi\n    script: { shell: "echo hi" }\n';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function load(team: string) {
  const p = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': team });
  cleanup = p.cleanup;
  return loadProject({ dir: p.dir });
}

describe('choosing the engine', () => {
  it('engine: in agent-team.yaml, under the team namespace; ORCH_ENGINE wins over it, and `local` turns it off', async () => {
    const { project } = await load('team: { name: ops }\nengine: redis://10.0.0.5:6380/2\nagents: [{ role: a, tools: [hi] }]\n');
    expect(engineTarget(project, {})).toEqual({ url: 'redis://10.0.0.5:6380/2', shown: 'redis://10.0.0.5:6380/2', prefix: 'orch:ops:' });
    expect(engineTarget(project, { ORCH_ENGINE: 'redis://127.0.0.1:7000/0' })?.url).toBe('redis://127.0.0.1:7000/0');
    expect(engineTarget(project, { ORCH_ENGINE: 'local' })).toBeUndefined();
  });

  it("the guide's state_management block is the engine's configuration; what orch cannot honour is a warning that says so", async () => {
    const { project, issues } = await load(`team: { name: ops }
state_management:
  backend: redis
  connection: "redis://state.internal:6379/0"
  key_prefix: "agent-state:"
  persistence:
    snapshot_interval: 60s
    snapshot_backend: s3
  isolation:
    strategy: namespace
  recovery:
    on_agent_crash: restore_from_snapshot
agents: [{ role: a, tools: [hi] }]
`);
    expect(engineTarget(project, {})).toMatchObject({ url: 'redis://state.internal:6379/0', prefix: 'agent-state:ops:' });
    const warnings = issues.filter((i) => i.code === 'ORCH_ENGINE_OPTION_IGNORED');
    expect(warnings.map((w) => [w.severity, w.line])).toEqual([
      ['warning', 7],
      ['warning', 8],
      ['warning', 12],
    ]);
    expect(warnings[1]?.message).toContain('`snapshot_backend` is not honoured');
  });

  it('isolation: shared leaves the team name out of the keys', async () => {
    const { project } = await load('team: { name: ops }\nstate_management: { backend: redis, connection: "redis://r:6379/0", isolation: { strategy: shared } }\nagents: [{ role: a, tools: [hi] }]\n');
    expect(engineTarget(project, {})?.prefix).toBe('orch:');
  });

  it('backend: redis without a connection is an error with its place and a fix', async () => {
    await expect(load('team: { name: ops }\nstate_management:\n  backend: redis\nagents: [{ role: a, tools: [hi] }]\n')).rejects.toSatisfy((err: unknown) => {
      const issues = (err as { issues: { code: string; line: number; hint?: string }[] }).issues;
      return issues.some((i) => i.code === 'ORCH_ENGINE_URL' && i.line === 3 && (i.hint ?? '').includes('connection: redis://'));
    });
  });

  it('a URL of another scheme is refused with exit 2 and the forms it may take; a password is never shown', async () => {
    const { project } = await load('team: { name: ops }\nagents: [{ role: a, tools: [hi] }]\n');
    let caught: unknown;
    try {
      engineTarget(project, { ORCH_ENGINE: 'http://user:hunter2@x' });
    } catch (err) {
      caught = err;
    }
    expect(isOrchError(caught) && caught.code).toBe('ORCH_ENGINE_URL');
    expect(String((caught as Error).message)).not.toContain('hunter2');
    expect(engineTarget(project, { ORCH_ENGINE: 'redis://:s3cret@r:6379/0' })?.shown).toBe('redis://:***@r:6379/0');
    expect(maskPassword('redis://bob:pw@h/1')).toBe('redis://bob:***@h/1');
  });

  it('reads host, port, database, credentials, TLS and unix sockets from the URL', () => {
    expect(redisOptions('redis://bob:p%40ss@cache:6390/3')).toEqual({ host: 'cache', port: 6390, db: 3, username: 'bob', password: 'p@ss' });
    expect(redisOptions('rediss://cache/0')).toEqual({ host: 'cache', port: 6379, db: 0, tls: {} });
    expect(redisOptions('unix:///run/redis.sock?db=2')).toEqual({ path: '/run/redis.sock', db: 2 });
    expect(() => redisOptions('redis://cache/x')).toThrow(/database `x`/);
  });
});
