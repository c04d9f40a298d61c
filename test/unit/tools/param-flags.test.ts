import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { coerce, normaliseFlagTokens, paramFlags } from '../../../src/tools/param-flags.js';
import { tool } from './project-helpers.js';

const scale = tool('scale_agents', { kind: 'module', module: 'orchestration', fn: 'scale_agents' }, {
  agent_type: { type: 'string', required: true, description: 'Type of agent' },
  count: { type: 'number' },
  dry_run: { type: 'boolean' },
  ids: { type: 'array', schema: { items: { type: 'integer' } } },
  task: { type: 'object' },
});

function parse(tokens: string[]): Record<string, unknown> {
  const { command, read } = paramFlags(scale, 'orch run scale_agents');
  command.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  command.parse(normaliseFlagTokens(tokens), { from: 'user' });
  return read();
}

describe('parameters as flags', () => {
  it('maps kebab-case and snake_case flags to parameters, coerced by type', () => {
    expect(parse(['--agent-type', 'worker', '--count', '10'])).toEqual({ agent_type: 'worker', count: 10 });
    expect(parse(['--agent_type=w', '--dry-run', '--ids', '1', '--ids', '2'])).toEqual({ agent_type: 'w', dry_run: true, ids: [1, 2] });
    expect(parse(['--no-dry-run', '--ids', '[3, 4]', '--task', '{"a": 1}'])).toEqual({ dry_run: false, ids: [3, 4], task: { a: 1 } });
    expect(parse(['--dry-run', 'false'])).toEqual({ dry_run: false });
  });

  it('leaves a value of the wrong type for validation to name', () => {
    expect(parse(['--count', 'ten'])).toEqual({ count: 'ten' });
    expect(coerce({ name: 'n', type: 'integer' }, '')).toBe('');
    expect(coerce({ name: 'b', type: 'boolean' }, 'maybe')).toBe('maybe');
  });

  it('rejects unknown flags and JSON that does not parse', () => {
    expect(() => parse(['--agent-typo', 'x'])).toThrow(CommanderError);
    expect(() => parse(['--task', '{nope'])).toThrow(/--task is not valid JSON at column 2: unexpected "nope"/);
  });

  it('describes each parameter in the help', () => {
    const help = paramFlags(scale, 'orch run scale_agents').command.helpInformation();
    expect(help).toMatch(/--agent-type <string>\s+Type of agent \(string, required\)/);
    expect(help).toMatch(/--ids <value\.\.\.>/);
    expect(help).not.toContain('--no-dry-run');
  });
});
