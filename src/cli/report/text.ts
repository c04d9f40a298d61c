import { formatDuration } from '../../config/duration.js';
import type { UsageRecord } from '../../state/events.js';
import { usageText } from '../ui/usage.js';
import type { Bar, Timeline } from './timeline.js';

/** Columns of the text timeline's bars. */
const WIDTH = 40;

function cut(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function usageCell(usage: UsageRecord | undefined): string {
  return usage ? usageText(usage) : '';
}

/** A bar as text: its place on the run's time axis, `█` for a step, `▒` for a model call, `░` for a tool call. */
function barText(bar: Bar, total: number): string {
  const scale = total > 0 ? WIDTH / total : 0;
  const from = Math.min(WIDTH - 1, Math.floor(bar.start_ms * scale));
  const to = Math.max(from + 1, Math.min(WIDTH, Math.ceil(bar.end_ms * scale)));
  const fill = bar.kind === 'model' ? '▒' : bar.kind === 'tool' ? '░' : '█';
  return `${' '.repeat(from)}${fill.repeat(to - from)}${' '.repeat(WIDTH - to)}`;
}

/** `orch report` for the terminal: the table of steps, the text timeline, gates, usage and errors. */
export function timelineText(t: Timeline): string {
  const lines: string[] = [];
  const what = t.kind === 'workflow' ? `workflow ${t.name}` : t.name;
  lines.push(`${what} ${t.status} (${t.kind === 'workflow' ? 'run' : 'task'} ${t.id})`);
  lines.push(`started ${t.started_at}${t.ended_at ? `, ended ${t.ended_at}` : ''}, ${formatDuration(t.duration_ms)}`);
  if (t.usage) lines.push(`usage: ${usageText(t.usage)}`);

  const head = [t.kind === 'workflow' ? 'step' : 'subtask', 'agent', 'status', 'tries', 'start', 'duration', 'usage'];
  const rows = t.steps.map((s) => [
    s.id,
    s.instance ?? s.agent ?? '',
    s.status,
    String(s.attempts),
    s.start_ms === null ? '' : `+${formatDuration(s.start_ms)}`,
    s.duration_ms === null ? '' : formatDuration(s.duration_ms),
    usageCell(s.usage),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const row = (cells: string[]): string => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  lines.push('', row(head), row(widths.map((w) => '-'.repeat(w))), ...rows.map(row));

  if (t.bars.length > 0) {
    lines.push('', `timeline (0 → ${formatDuration(t.duration_ms)}; █ step  ▒ model call  ░ tool call)`);
    const label = (b: Bar): string => cut(`${'  '.repeat(b.depth)}${b.kind === 'model' ? `${b.label} ${b.detail ?? ''}` : b.label}`, 28);
    const labelWidth = Math.max(...t.bars.map((b) => label(b).length));
    for (const b of t.bars) {
      const took = formatDuration(b.end_ms - b.start_ms);
      const status = b.kind === 'step' || b.kind === 'subtask' || b.status !== 'succeeded' ? `  ${b.status}` : '';
      const usage = b.kind === 'model' && b.usage ? `  ${usageText(b.usage)}` : '';
      lines.push(`  ${label(b).padEnd(labelWidth)} |${barText(b, t.duration_ms)}| ${took.padStart(6)}${status}${usage}`);
    }
  }

  if (t.gates.length > 0) {
    lines.push('', 'gates:');
    for (const g of t.gates) {
      const on = g.tool ? `${g.step}, tool call ${g.tool}` : `${g.step} (${g.when})`;
      const who = g.decision === 'waiting' ? 'waiting for a decision' : `${g.decision} by ${g.by ?? '?'} via ${g.method ?? '?'}`;
      lines.push(`  ${on}: ${who} at ${g.at}${g.reason ? ` — ${g.reason}` : ''}`);
    }
  }

  const agents = Object.entries(t.by_agent);
  if (agents.length > 0) {
    lines.push('', 'usage by agent:');
    const w = Math.max(...agents.map(([a]) => a.length));
    for (const [agent, usage] of agents) lines.push(`  ${agent.padEnd(w)}  ${usageText(usage)}`);
  }

  if (t.errors.length > 0) {
    lines.push('', 'errors:');
    for (const e of t.errors) lines.push(`  ${e.at}  ${e.where}: ${e.code ? `${e.code} ` : ''}${cut(e.message, 300)}`);
  }
  return `${lines.join('\n')}\n`;
}
