import { afterEach, describe, expect, it } from 'vitest';
import type { OrchestrationReport } from '../../../src/orchestration/report.js';
import { Blackboard } from '../../../src/orchestration/blackboard.js';
import { Rounds } from '../../../src/orchestration/patterns/rounds.js';
import { callAs, orchProject, teamYaml, type OrchProject } from '../../helpers/orchestration.js';

// Peer-to-peer and swarm: coordination in rounds, with module tools as the members.
const TOOLS = `  negotiate:
    description: Moves a price towards what the other peers asked for
    parameters: { start: { type: number, required: true }, messages: { type: object }, round: { type: number } }
    handler: rounds.negotiate
  stubborn:
    description: Always asks the same price
    parameters: { price: { type: number, required: true }, messages: { type: object } }
    handler: rounds.stubborn
  spread:
    description: Marks a cell of the board next to a marked one
    parameters: { board: { type: object }, member: { type: string } }
    handler: rounds.spread
`;
const HANDLERS = `
export function negotiate({ start, messages = {}, round = 1 }) {
  const others = Object.values(messages).map((m) => m.price);
  if (others.length === 0) return { price: start };
  // Meet in the middle, rounded to tens: two peers agree by round 3.
  const all = [start, ...others];
  return { price: Math.round(all.reduce((a, b) => a + b, 0) / all.length / 10) * 10, round };
}
export function stubborn({ price }) { return { price }; }
export function spread({ board = {}, member }) {
  // Each member owns one cell and marks it once a neighbour is marked; cell 1 starts it.
  const n = Number(member.split('-').pop());
  if (n === 1 || board[String(n - 1)]) return { writes: { [String(n)]: true } };
  return { writes: {} };
}
`;

let p: OrchProject | undefined;
afterEach(() => p?.cleanup());
const orchestrate = (task: Record<string, unknown>) => callAs<OrchestrationReport>(p!, 'orchestrate', { task });
const setup = async (workers = 4) => (p = await orchProject(teamYaml({ workers }), { tools: TOOLS, files: { 'handlers/rounds.mjs': HANDLERS } }));

describe('peer-to-peer coordination', () => {
  it('exchanges answers round by round and stops on agreement', async () => {
    await setup();
    const report = await orchestrate({
      coordination: 'peer-to-peer',
      max_rounds: 6,
      subtasks: [
        { id: 'buyer', tool: 'negotiate', input: { start: 100 } },
        { id: 'seller', tool: 'negotiate', input: { start: 200 } },
      ],
    });
    expect(report.status).toBe('completed');
    expect(report.details).toMatchObject({ agreed: true });
    const rounds = (report.details as { rounds: number }).rounds;
    expect(rounds).toBeGreaterThan(1);
    expect(rounds).toBeLessThan(6);
    expect(report.result).toMatchObject({ price: expect.any(Number) });
    // Round 1: each spoke alone; round 2: each heard the other.
    const exchange = (report.details as { exchange: Record<string, { price: number }>[] }).exchange;
    expect(exchange[0]).toEqual({ buyer: { price: 100 }, seller: { price: 200 } });
  });

  it('stops at max_rounds without agreement, with every peer\'s last answer', async () => {
    await setup();
    const report = await orchestrate({
      coordination: 'peer-to-peer',
      max_rounds: 2,
      subtasks: [
        { id: 'a', tool: 'stubborn', input: { price: 1 } },
        { id: 'b', tool: 'stubborn', input: { price: 2 } },
      ],
    });
    expect(report.details).toMatchObject({ agreed: false, rounds: 2 });
    expect(report.result).toEqual({ a: { price: 1 }, b: { price: 2 } });
  });

  it('needs at least two peers', async () => {
    await setup();
    await expect(orchestrate({ coordination: 'peer-to-peer', subtasks: [{ id: 'a', tool: 'stubborn', input: { price: 1 } }] })).rejects.toMatchObject({ code: 'ORCH_TASK' });
  });
});

describe('swarm coordination', () => {
  it('runs many members over a shared board until a round changes nothing', async () => {
    await setup(2);
    const report = await orchestrate({ coordination: 'swarm', swarm_size: 4, max_rounds: 10, subtasks: [{ id: 'cell', tool: 'spread', input: {} }] });
    expect(report.status).toBe('completed');
    expect(Object.keys(report.subtasks).sort()).toEqual(['cell-1', 'cell-2', 'cell-3', 'cell-4']);
    expect(report.result).toEqual({ 1: true, 2: true, 3: true, 4: true });
    // Cells 1..4 are marked in rounds 1..4; round 5 changes nothing.
    expect(report.details).toMatchObject({ settled: true, rounds: 5, members: 4 });
  });

  it('stops at max_rounds', async () => {
    await setup(2);
    const report = await orchestrate({ coordination: 'swarm', swarm_size: 4, max_rounds: 2, subtasks: [{ id: 'cell', tool: 'spread', input: {} }] });
    expect(report.result).toEqual({ 1: true, 2: true });
    expect(report.details).toMatchObject({ settled: false, rounds: 2 });
  });
});

describe('what members are handed is the same whichever of them came first', () => {
  it('a round resolves in member order, not arrival order', async () => {
    const rounds = new Rounds<number>(['a', 'b', 'c']);
    const arrivals = [rounds.arrive(1, 'c', 3), rounds.arrive(1, 'b', 2), rounds.arrive(1, 'a', 1)];
    for (const got of await Promise.all(arrivals)) expect([...got.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('the board reads in key order, whichever write landed first', () => {
    const board = new Blackboard();
    expect(board.compareAndSet({ metrics: 'm' }, {}, 'x').ok).toBe(true);
    expect(board.compareAndSet({ logs: 'l' }, {}, 'y').ok).toBe(true);
    expect(JSON.stringify(board.snapshot().values)).toBe('{"logs":"l","metrics":"m"}');
  });
});
