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
import { listAll } from '../run-listing.js';
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
}

/** `orch status [--json]`: agent pools, the configured servers and recent runs. */
export async function run(globals: GlobalOptions, _flags: unknown, _command: unknown, io: Io = processIo): Promise<number> {
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const stateDir = resolveStateDir(project.dir);
  await pullShared(globals, stateDir);
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
    recent: await recentRuns(stateDir),
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
async function recentRuns(stateDir: string, limit = 10): Promise<RecentRun[]> {
  const { rows } = await listAll(stateDir);
  const recent = rows.map(
    (r): RecentRun => ({
      id: r.id,
      kind: r.kind,
      status: r.status,
      updated: r.ended ?? r.started,
      ...(r.usage && { usage: r.usage }),
      ...(r.cost_usd !== undefined && { cost_usd: r.cost_usd }),
    }),
  );
  return recent.sort((a, b) => b.updated.localeCompare(a.updated)).slice(0, limit);
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
  return `${lines.join('\n')}\n`;
}
