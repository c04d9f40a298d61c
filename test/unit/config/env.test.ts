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
    expect(expandEnv(input, env)).toEqual({ value: expected, missing: [], malformed: [] });
  });

  it('names every unset variable without a default, nested ones too', () => {
    expect(expandEnv('${A} ${B:-${C}}', env).missing).toEqual(['A', 'C']);
  });

  it.each(['${ F }', '${G', '${I-dflt}', '${X:?msg}', '${1X}'])('reports %s as malformed', (input) => {
    expect(expandEnv(input, env).malformed).toHaveLength(1);
  });
});
