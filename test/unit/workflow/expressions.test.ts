import { describe, expect, it } from 'vitest';
import { condition, evaluate, parseExpression, render } from '../../../src/lang/expressions.js';

const scope = {
  inputs: { service: 'payments', count: 3, tags: ['a', 'b'], flag: false },
  steps: {
    review: { output: { approved: true, score: 0.9 }, status: 'succeeded' },
    smoke: { output: '{"passed": true, "checks": 4}', status: 'succeeded' },
    text: { output: 'hello', status: 'succeeded' },
  },
};

describe('expressions', () => {
  it.each([
    ['inputs.service', 'payments'],
    ['inputs.tags[1]', 'b'],
    ['steps.review.output.approved', true],
    ['steps.smoke.output.checks', 4],
    ['steps.missing.output', undefined],
    ["inputs.service == 'payments'", true],
    ['inputs.count >= 3 && !inputs.flag', true],
    ['inputs.count > 5 || steps.review.output.score < 1', true],
    ['(inputs.count == "3")', true],
    ['steps.text.output != "hello"', false],
    ['null == steps.missing', true],
  ])('%s → %j', (source, expected) => {
    expect(evaluate(parseExpression(source), scope)).toEqual(expected);
  });

  it('renders values without templates as copies of themselves, a `__proto__` key too', () => {
    const value = JSON.parse('{"__proto__": {"x": 1}, "list": ["plain", 2, null], "n": 1}') as Record<string, unknown>;
    const out = render(value, scope) as Record<string, unknown>;
    expect(out).not.toBe(value);
    expect(Object.keys(out)).toEqual(['__proto__', 'list', 'n']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(JSON.stringify(value));
  });

  it('reads only own data, never the prototype chain', () => {
    expect(evaluate(parseExpression('inputs.constructor'), scope)).toBeUndefined();
    expect(evaluate(parseExpression('inputs.__proto__'), scope)).toBeUndefined();
    expect(evaluate(parseExpression('steps.text.output.constructor'), scope)).toBeUndefined();
  });

  it.each(['inputs.', 'a +', '(a', "'open", 'a ; b', 'process.exit()'])('rejects %j with ORCH_EXPRESSION', (source) => {
    expect(() => parseExpression(source)).toThrow(expect.objectContaining({ code: 'ORCH_EXPRESSION' }));
  });

  it('renders whole expressions with their type and mixed strings as text', () => {
    expect(
      render({ n: '${{ inputs.count }}', list: ['${{ inputs.tags }}'], msg: '${{ inputs.service }} x${{ inputs.count }} ${{ steps.review.output }}' }, scope),
    ).toEqual({ n: 3, list: [['a', 'b']], msg: 'payments x3 {"approved":true,"score":0.9}' });
  });

  it('conditions take ${{ }} or a bare expression', () => {
    expect(condition('${{ steps.review.output.approved }}', scope)).toBe(true);
    expect(condition('inputs.flag', scope)).toBe(false);
    expect(condition('false', scope)).toBe(false);
  });
});

describe('deeply nested expressions', () => {
  const deep = 30_000;
  it.each([
    ['parentheses', `${'('.repeat(deep)}true${')'.repeat(deep)}`],
    ['negations', `${'!'.repeat(deep)}true`],
    ['a chain of operators', Array.from({ length: deep }, () => 'true').join(' && ')],
  ])('of %s are refused as ORCH_EXPRESSION, not a stack overflow', (_what, source) => {
    let err: unknown;
    try {
      parseExpression(source);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ORCH_EXPRESSION', exitCode: 2 });
    expect(String(err)).toContain('nested more than 100 levels deep');
  });

  it('up to the limit still evaluate', () => {
    expect(evaluate(parseExpression(`${'('.repeat(99)}inputs.count${')'.repeat(99)}`), scope)).toBe(3);
    expect(evaluate(parseExpression(`${'!'.repeat(98)}true`), scope)).toBe(true);
  });
});
