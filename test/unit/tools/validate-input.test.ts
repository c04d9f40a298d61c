import { describe, expect, it } from 'vitest';
import { isOrchError } from '../../../src/errors.js';
import { validateInput } from '../../../src/tools/validate-input.js';
import { tool } from './project-helpers.js';

const scale = tool('scale_agents', { kind: 'module', module: 'orchestration', fn: 'scale_agents' }, {
  agent_type: { type: 'string', required: true },
  count: { type: 'number' },
  mode: { type: 'string', default: 'gradual', schema: { enum: ['gradual', 'now'] } },
  tags: { type: 'array', schema: { items: { type: 'string' } } },
});

function problemOf(input: unknown): string {
  try {
    validateInput(scale, input);
  } catch (err) {
    if (isOrchError(err) && err.code === 'ORCH_INPUT' && err.exitCode === 2) return err.message;
    throw err;
  }
  throw new Error('input was accepted');
}

describe('tool input validation', () => {
  it('accepts valid input and fills in defaults without touching the caller\'s object', () => {
    const input = { agent_type: 'worker', count: 10 };
    expect(validateInput(scale, input)).toEqual({ agent_type: 'worker', count: 10, mode: 'gradual' });
    expect(input).toEqual({ agent_type: 'worker', count: 10 });
  });

  it('names a missing required parameter', () => {
    expect(problemOf({ count: 1 })).toContain('missing required parameter `agent_type`');
  });

  it('names a mistyped parameter and what it got', () => {
    expect(problemOf({ agent_type: 'w', count: 'ten' })).toContain('parameter `count` must be number, got the string "ten"');
    expect(problemOf({ agent_type: 'w', tags: ['a', 3] })).toContain('parameter `tags[1]` must be string');
  });

  it('names unknown parameters and enum violations, all at once', () => {
    const message = problemOf({ agent_type: 'w', mode: 'fast', agnet: 1 });
    expect(message).toContain('unknown parameter `agnet`');
    expect(message).toContain('parameter `mode` must be one of "gradual", "now"');
  });

  it('rejects input that is not an object', () => {
    expect(problemOf([1])).toContain('not an array');
    expect(problemOf('worker')).toContain('not the string "worker"');
  });
});
