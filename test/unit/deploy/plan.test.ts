import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load.js';
import { deployPlan, dnsLabel, kubernetesManifests, referencedVariables } from '../../../src/deploy/index.js';
import { tempProject } from '../../helpers/project.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function project(files: Record<string, string>) {
  const p = tempProject(files);
  cleanup = p.cleanup;
  return p.dir;
}

describe('dnsLabel', () => {
  it('keeps a name that is a label already, and cleans others without a hash', () => {
    expect(dnsLabel('shop-ops')).toBe('shop-ops');
    expect(dnsLabel('Shop Ops')).toBe('shop-ops');
    expect(dnsLabel('deployment_agent')).toBe('deployment-agent');
  });

  it('cuts a long name to fit, with a hash that keeps two long names apart', () => {
    const a = dnsLabel(`${'x'.repeat(70)}-a`);
    const b = dnsLabel(`${'x'.repeat(70)}-b`);
    expect(a).toHaveLength(63);
    expect(a).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    expect(a).not.toBe(b);
    expect(dnsLabel('___')).toMatch(/^x-[0-9a-f]{6}$/);
  });
});

describe('deployPlan', () => {
  it('gives agent types whose labels would be one pools of their own names and selectors', async () => {
    const dir = project({
      'agent-team.yaml': 'team: { name: t }\nagents:\n  - { role: build_agent, count: 2 }\n  - { role: build-agent, count: 1 }\n',
    });
    const { project: loaded } = await loadProject({ dir });
    const plan = await deployPlan(loaded, { orchVersion: '9.9.9', stateDir: `${dir}/.orch`, exclude: [] });
    const [a, b] = plan.workers;
    expect(a?.name).not.toBe(b?.name);
    const workers = kubernetesManifests(plan).find((m) => m.file === 'workers.yaml')?.objects ?? [];
    const selectors = workers.map((w) => JSON.stringify((w.spec as { selector: unknown }).selector));
    expect(new Set(selectors).size).toBe(2);
    expect(plan.image).toBe('orch:9.9.9');
  });

  it('reads variable names as the expander does: a default makes one optional, a literal is no name', async () => {
    const dir = project({
      'gantz.yaml': [
        'tools:',
        '  t:',
        '    script:',
        '      shell: "echo $${LITERAL}"',
        '    environment:',
        '      A: "${OUTER:-${INNER}}"',
        '      B: "${env:PLAIN}"',
        '      C: "${workspaceFolder}/x"',
        '',
      ].join('\n'),
    });
    const { project: loaded } = await loadProject({ dir, env: { INNER: 'i', PLAIN: 'p' } });
    const names = await referencedVariables(loaded.files, dir);
    expect(names.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'INNER', required: true },
      { name: 'OUTER', required: false },
      { name: 'PLAIN', required: true },
    ]);
  });
});
