import { typesFor } from '../../agents/agent-types.js';
import { resolveType, type Subtask } from '../plan.js';
import { sinkResults } from '../report.js';
import { taskError } from '../task-spec.js';
import type { Pattern, PatternContext } from './pattern.js';

/** A specialist (lists the tool) outbids a generalist (may run anything) at equal load. */
const CAPABILITY = { specialist: 1, generalist: 0.5 } as const;

interface Bid {
  agent_type: string;
  capability: number;
  load: number;
  score: number;
}

/**
 * Every type able to run a subtask bids: capability minus load (busy instances plus
 * work already won in this auction, per instance). The best bid wins; ties go to the
 * type named first. Subtasks that name an agent type skip the auction.
 */
export const auction: Pattern = (spec, ctx) => {
  const won = new Map<string, number>();
  const awards: Record<string, { agent_type: string; bids: Bid[] }> = {};
  const subtasks: Subtask[] = spec.subtasks.map((s) => {
    if (s.subtasks.length > 0) throw taskError(`subtask \`${s.id}\` has subtasks of its own, which auction coordination does not run`);
    let agentType = s.agentType;
    if (agentType === undefined && s.tool !== undefined) {
      resolveType(ctx, s.id, s.tool, undefined);
      const bids = bidsFor(s.tool, ctx, won);
      const best = bids[0];
      if (best) {
        agentType = best.agent_type;
        awards[s.id] = { agent_type: best.agent_type, bids };
      }
    }
    const resolved = resolveType(ctx, s.id, s.tool, agentType);
    won.set(resolved, (won.get(resolved) ?? 0) + 1);
    return { id: s.id, agentType: resolved, tool: s.tool, input: s.input, dependsOn: s.dependsOn };
  });
  return { subtasks, combine: (results) => ({ result: sinkResults(subtasks, results), details: { awards } }) };
};

function bidsFor(tool: string, ctx: PatternContext, won: ReadonlyMap<string, number>): Bid[] {
  const bids = typesFor(ctx.types, tool).map((type) => {
    const { instances, busy } = ctx.load(type.name);
    const capability = type.tools === 'all' ? CAPABILITY.generalist : CAPABILITY.specialist;
    const load = instances === 0 ? Infinity : (busy + (won.get(type.name) ?? 0)) / instances;
    return { agent_type: type.name, capability, load: round(load), score: round(capability - load) };
  });
  return bids.filter((b) => Number.isFinite(b.score)).sort((a, b) => b.score - a.score);
}

const round = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n);
