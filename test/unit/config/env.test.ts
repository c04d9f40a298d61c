import { describe, expect, it } from 'vitest';
import { expandEnv } from '../../../src/config/env.js';

const env = { HOME: '/home/ada', E: 'e-value', EMPTY: '' };

describe('${VAR} expansion', () => {
  it.each([
    ['${HOME}/.kube/config', '/home/ada/.kube/config'],
    ['${NOPE:-fallback}', 'fallback'],
    ['${NOPE:-}', ''],
    ['${EMPTY}', ''],
    ['${EMPTY:-used}', 'used'],
    ['${D:-${E}}', 'e-value'],
    ['${D:-x${E}y}', 'xe-valuey'],
    ['cost $${HOME}', 'cost ${HOME}'],
    ['${{ inputs.x }} and ${HOME}', '${{ inputs.x }} and /home/ada'],
  ])('%s → %s', (input, expected) => {
    expect(expandEnv(input, env)).toEqual({ value: expected, missing: [], malformed: [], inputs: [] });
  });

  it('names every unset variable without a default, nested ones too', () => {
    expect(expandEnv('${A} ${B:-${C}}', env).missing).toEqual(['A', 'C']);
  });

  it.each(['${ F }', '${G', '${I-dflt}', '${X:?msg}', '${1X}'])('reports %s as malformed', (input) => {
    expect(expandEnv(input, env).malformed).toHaveLength(1);
  });

  it.each([
    ['${env:HOME}/bin', '/home/ada/bin'],
    ['${env:NOPE:-x}', 'x'],
    ['${workspaceFolder}/data', '/work/p/data'],
    ['${userHome}/.config', '/home/ada/.config'],
  ])('VS Code form %s → %s', (input, expected) => {
    expect(expandEnv(input, env, { workspaceFolder: '/work/p', userHome: '/home/ada' })).toEqual({ value: expected, missing: [], malformed: [], inputs: [] });
  });

  it('names `${env:VAR}` unset like `${VAR}`, and collects `${input:id}` apart', () => {
    const r = expandEnv('${env:NOPE} ${input:api-key}', env, { workspaceFolder: '/p', userHome: '/h' });
    expect(r.missing).toEqual(['NOPE']);
    expect(r.inputs).toEqual(['api-key']);
    expect(r.malformed).toEqual([]);
  });
});
