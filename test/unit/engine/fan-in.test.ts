import { describe, expect, it } from 'vitest';
import { fanIns } from '../../../src/engine/fan-in.js';

const node = (id: string, needs: string[] = [], task = true) => ({ id, needs, task });
const parents = (nodes: ReturnType<typeof node>[]) => Object.fromEntries([...fanIns(nodes)].map(([id, to]) => [id, to.id]));

describe('fan-ins of a graph (the flows a queue engine adds)', () => {
  it('a task needing several others is the parent of each', () => {
    expect(parents([node('a'), node('b'), node('c'), node('z', ['a', 'b', 'c'])])).toEqual({ a: 'z', b: 'z', c: 'z' });
  });

  it('an input another task needs too stays a job of its own: a job has one parent', () => {
    expect(parents([node('a'), node('b'), node('z', ['a', 'b']), node('w', ['b'])])).toEqual({ a: 'z' });
  });

  it('a chain is no fan-in, nor is a task needing one other', () => {
    expect(parents([node('a'), node('b', ['a']), node('c', ['b'])])).toEqual({});
    // Sequential steps need the one before: the last of x → y → z needs y alone.
    expect(parents([node('x'), node('y', ['x']), node('z', ['x', 'y'])])).toEqual({ y: 'z' });
  });

  it('neither a parent nor a child is what is not sent as a task (a manager gathering its team)', () => {
    expect(parents([node('a'), node('b'), node('m', ['a', 'b'], false)])).toEqual({});
    expect(parents([node('a', [], false), node('b'), node('z', ['a', 'b'])])).toEqual({ b: 'z' });
  });

  it('a need named twice counts once', () => {
    expect(parents([node('a'), node('b'), node('z', ['a', 'a', 'b'])])).toEqual({ a: 'z', b: 'z' });
  });
});
