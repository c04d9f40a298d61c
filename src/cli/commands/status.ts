import path from 'node:path';
import { loadProject } from '../../config/load.js';
import type { Project } from '../../config/model.js';
import { ExitCode } from '../../errors.js';
import { orchestration } from '../../orchestration/context.js';
import { monitor, type MonitorReport } from '../../orchestration/monitor.js';
import { secretsRedactor } from '../../secrets/redact.js';
import { readHalt } from '../../state/halt.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { usageText } from '../ui/usage.js';
import { engineTarget } from '../../engine/redis/target.js';
import { listAll, type RunRow } from '../run-listing.js';
import { addUsage } from '../../state/run-state.js';
import type { UsageRecord } from '../../state/events.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { pullShared } from '../shared-state.js';

interface RecentRun {
  id: string;
  kind: 'task' | 'workflow';
  status?: string;
  updated: string;
  /** What the run's model calls used, all steps together (absent when none was made). */
  usage?: { input_tokens: number; output_tokens: number };
  cost_usd?: number;
}

/** What the recent runs' model calls used, for one agent type. */
interface AgentUsage {
  agent_type: string;
  /** How many of the recent runs it made model calls in. */
  runs: number;
  input_tokens: number;
  output_tokens: number;
  /** Absent when a model's price is unknown for any of its calls. */
  cost_usd?: number;
}

interface Status {
  project: string;
  pools: MonitorReport['pools'];
  agents: MonitorReport['agents'];
  bottlenecks: MonitorReport['bottlenecks'];
  recommendations: string[];
  /** The queue engine, when the project schedules on one: its URL and the workers that beat. */
  engine?: { url: string; workers: { id: string; types: string[]; concurrency: number; running: number; draining: boolean; last_beat: string }[] };
  servers: { name: string; transport: string; target: string }[];
  recent: RecentRun[];
  /** The kill switch (`orch stop --all`), while it is on. */
  halted?: { at: string; by: string };
  /** Usage and cost per agent type over the recent runs, the most expensive first. */
  usage_by_agent: AgentUsage[];
}

/** `orch status [--json]`: agent pools, the configured servers and recent runs. */
export async function run(globals: GlobalOptions, _flags: unknown, _command: unknown, io: Io = processIo): Promise<number> {
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const stateDir = resolveStateDir(project.dir);
  await pullShared(globals, stateDir, undefined, project);
  const orch = orchestration({ project, stateDir });
  const report = await monitor(orch, {});
  const status: Status = {
    project: project.name ?? project.team?.name ?? path.basename(project.dir),
    pools: report.pools,
    agents: report.agents,
    bottlenecks: report.bottlenecks,
    recommendations: report.recommendations,
    ...(await engineStatus(project)),
    servers: servers(project),
    ...(await recentRuns(stateDir)),
  };
  const halt = await readHalt(stateDir);
  if (halt) status.halted = { at: halt.at, by: halt.by };
  // A server's command line carries what its `${VAR}`s expanded to: a password in a URL, a token as an argument.
  const shown = secretsRedactor(process.env, project.servers.values()).redact(status) as Status; // redaction keeps the shape
  io.stdout.write(globals.json ? `${JSON.stringify(shown, null, 2)}\n` : human(shown));
  return ExitCode.ok;
}

async function engineStatus(project: Project): Promise<Pick<Status, 'engine'>> {
  const target = engineTarget(project);
  if (!target) return {};
  const { RedisEngine } = await import('../../engine/redis/redis-engine.js');
  const { workers } = await new RedisEngine({ project, target }).snapshot();
  return {
    engine: {
      url: target.shown,
      workers: workers.map((w) => ({ id: w.id, types: w.types, concurrency: w.concurrency, running: w.running, draining: w.draining === true, last_beat: new Date(w.beat).toISOString() })),
    },
  };
}

function servers(project: Project): Status['servers'] {
  return [...project.servers.values()].map((s) => ({ name: s.name, transport: s.transport, target: s.url ?? [s.command ?? '', ...s.args].join(' ') }));
}

/** The latest of what `orch runs` lists (workflow runs and tasks alike), newest first, with what their model calls used. */
async function recentRuns(stateDir: string, limit = 10): Promise<Pick<Status, 'recent' | 'usage_by_agent'>> {
  const { rows } = await listAll(stateDir);
  const updated = (r: RunRow): string => r.ended ?? r.started;
  const latest = [...rows].sort((a, b) => updated(b).localeCompare(updated(a))).slice(0, limit);
  const recent = latest.map(
    (r): RecentRun => ({
      id: r.id,
      kind: r.kind,
      status: r.status,
      updated: updated(r),
      ...(r.usage && { usage: r.usage }),
      ...(r.cost_usd !== undefined && { cost_usd: r.cost_usd }),
    }),
  );
  return { recent, usage_by_agent: usageByAgent(latest) };
}

const tokens = (u: AgentUsage): number => u.input_tokens + u.output_tokens;

/** Totals per agent type over these runs; a cost only while every call's price was known. */
function usageByAgent(rows: readonly RunRow[]): AgentUsage[] {
  const totals = new Map<string, { runs: number; usage: UsageRecord }>();
  for (const row of rows) {
    for (const [agent, usage] of Object.entries(row.by_agent ?? {})) {
      const t = totals.get(agent);
      totals.set(agent, t ? { runs: t.runs + 1, usage: addUsage(t.usage, usage) } : { runs: 1, usage: { ...usage } });
    }
  }
  return [...totals]
    .map(([agent_type, t]): AgentUsage => ({
      agent_type,
      runs: t.runs,
      input_tokens: t.usage.input_tokens,
      output_tokens: t.usage.output_tokens,
      ...(t.usage.cost_usd !== undefined && { cost_usd: t.usage.cost_usd }),
    }))
    .sort((a, b) => (b.cost_usd ?? 0) - (a.cost_usd ?? 0) || tokens(b) - tokens(a) || a.agent_type.localeCompare(b.agent_type));
}

function human(status: Status): string {
  const lines = [`${status.project}`, ''];
  if (status.halted) lines.push(`kill switch on since ${status.halted.at} (by ${status.halted.by}): no new run starts until \`orch start --all\``, '');
  lines.push('agent pools:');
  for (const p of status.pools) {
    const queue = p.queued ? `, ${p.queued} queued` : '';
    lines.push(`  ${p.type.padEnd(16)} ${String(p.instances).padStart(4)} instances (${p.available} available, ${p.busy} busy, ${p.unhealthy} unhealthy${queue})`);
  }
  for (const b of status.bottlenecks) lines.push(`  ! ${b.agent_type}: ${b.detail}`);
  for (const r of status.recommendations) lines.push(`  → ${r}`);
  if (status.engine) {
    lines.push('', `workers on ${status.engine.url}:`);
    if (status.engine.workers.length === 0) lines.push('  none: start one with `orch worker`');
    for (const w of status.engine.workers) {
      lines.push(`  ${w.id.padEnd(24)} ${w.types.join(', ')}  ${w.running}/${w.concurrency} running${w.draining ? ', draining' : ''}`);
    }
  }
  lines.push('', 'servers:');
  if (status.servers.length === 0) lines.push('  none configured');
  for (const s of status.servers) lines.push(`  ${s.name.padEnd(16)} ${s.transport.padEnd(6)} ${s.target}`);
  lines.push('', 'recent runs:');
  if (status.recent.length === 0) lines.push('  none yet');
  for (const r of status.recent) {
    const usage = r.usage ? `  ${usageText({ ...r.usage, cost_usd: r.cost_usd })}` : '';
    lines.push(`  ${r.id.padEnd(28)} ${r.kind.padEnd(9)} ${(r.status ?? '').padEnd(10)} ${r.updated}${usage}`);
  }
  if (status.usage_by_agent.length > 0) {
    lines.push('', `usage by agent type (the ${status.recent.length} recent run${status.recent.length === 1 ? '' : 's'}):`);
    for (const a of status.usage_by_agent) {
      lines.push(`  ${a.agent_type.padEnd(16)} ${usageText(a)}  in ${a.runs} run${a.runs === 1 ? '' : 's'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
