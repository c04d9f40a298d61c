import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { flagEntries, GLOBAL_FLAGS, RUN_FLAGS } from '../../../src/cli/flags.js';
import { protectRunArgs } from '../../../src/cli/run-args.js';
import { takeProjectFlags } from '../../../src/cli/run-flags.js';

const argv = (...args: string[]): string[] => ['node', 'orch', ...args];

describe("orch's flag tables", () => {
  it('key each flag by the name commander gives its value', () => {
    for (const [key, spec] of [...flagEntries(GLOBAL_FLAGS), ...flagEntries(RUN_FLAGS)]) {
      expect(new Option(spec.flags).attributeName(), spec.flags).toBe(key);
      expect(spec.help.trim(), spec.flags).not.toBe('');
    }
  });

  it("keep the tokens after `orch run <name>` from commander, skipping orch's flags and their values before it", () => {
    expect(protectRunArgs(argv('-qC', 'dir', 'run', '--input', '{}', '--approve', 'a', 'deploy', '--json'))).toEqual(
      argv('-qC', 'dir', 'run', '--input', '{}', '--approve', 'a', 'deploy', '--', '--json'),
    );
    expect(protectRunArgs(argv('--config', 'run', 'run', 'x'))).toEqual(argv('--config', 'run', 'run', 'x', '--'));
    expect(protectRunArgs(argv('validate', '--json'))).toEqual(argv('validate', '--json'));
  });

  it('take the project flags from after the name, and only those', () => {
    expect(takeProjectFlags(['--json', '-C', 'a', '--config=g.yaml', '--team', 't.yaml', '-C=b', '--count', '2'])).toEqual({
      tokens: ['--json', '-C=b', '--count', '2'],
      dir: 'a',
      config: 'g.yaml',
      team: 't.yaml',
    });
  });
});
