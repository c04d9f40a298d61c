import { formatDuration } from '../../config/duration.js';
import type { UsageRecord } from '../../state/events.js';
import { usageText } from '../ui/usage.js';
import type { Bar, GateMark, Timeline } from './timeline.js';

/** Bar colours by status (steps and subtasks), and by kind for the calls under them. */
export const STATUS_COLOURS: Record<string, string> = {
  succeeded: '#2f9e44',
  completed: '#2f9e44',
  failed: '#e03131',
  rejected: '#f08c00',
  running: '#1c7ed6',
  unfinished: '#1c7ed6',
  waiting: '#f59f00',
  partial: '#f59f00',
  interrupted: '#868e96',
  pending: '#adb5bd',
  skipped: '#ced4da',
};
export const CALL_COLOURS = { model: '#7048e8', tool: '#15aabf', toolFailed: '#ff8787' } as const;

const LABEL_W = 240;
const CHART_W = 760;
const ROW_H = 22;
const AXIS_H = 26;

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function colourOf(bar: Bar): string {
  if (bar.kind === 'model') return CALL_COLOURS.model;
  if (bar.kind === 'tool') return bar.status === 'succeeded' ? CALL_COLOURS.tool : CALL_COLOURS.toolFailed;
  return STATUS_COLOURS[bar.status] ?? STATUS_COLOURS.pending ?? '#adb5bd';
}

const usageOf = (u: UsageRecord | undefined): string => (u ? usageText(u) : '');

/** A few round tick values across the run, in ms. */
function ticks(total: number): number[] {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000];
  const step = steps.find((s) => total / s <= 8) ?? Math.ceil(total / 8);
  const out: number[] = [];
  for (let t = 0; t <= total; t += step) out.push(t);
  return out;
}

function barTitle(b: Bar): string {
  const parts = [`${b.kind} ${b.label}`, b.status, formatDuration(b.end_ms - b.start_ms), `+${formatDuration(b.start_ms)}`];
  if (b.detail && b.detail !== b.label) parts.push(b.detail);
  if (b.instance ?? b.agent) parts.push(`agent ${b.instance ?? b.agent}`);
  if (b.usage) parts.push(usageText(b.usage));
  return parts.join(' · ');
}

function gateTitle(g: GateMark): string {
  const who = g.decision === 'waiting' ? 'waiting for a decision' : `${g.decision} by ${g.by ?? '?'} (${g.method ?? '?'})`;
  return `gate ${g.when} ${g.step}${g.tool ? `, tool call ${g.tool}` : ''}: ${who} at ${g.at}${g.reason ? ` — ${g.reason}` : ''}`;
}

/** The Gantt chart: a row per bar, steps thick and coloured by status, their calls thin beneath, gates as diamonds. */
function gantt(t: Timeline): string {
  const total = Math.max(1, t.duration_ms, ...t.bars.map((b) => b.end_ms));
  const x = (ms: number): number => LABEL_W + (ms / total) * CHART_W;
  const height = AXIS_H + t.bars.length * ROW_H + 8;
  const parts: string[] = [];
  for (const tick of ticks(total)) {
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${AXIS_H - 6}" x2="${tx}" y2="${height}" class="grid"/>`,
      `<text x="${tx}" y="${AXIS_H - 10}" class="tick">${esc(formatDuration(tick))}</text>`,
    );
  }
  const rowOf = new Map<string, number>();
  t.bars.forEach((b, i) => {
    const y = AXIS_H + i * ROW_H;
    if (b.depth === 0) rowOf.set(b.step, i);
    const main = b.depth === 0;
    const h = main ? 16 : 8;
    const top = y + (ROW_H - h) / 2;
    const width = Math.max(2, x(b.end_ms) - x(b.start_ms));
    const label = b.kind === 'model' ? `${b.label} (${b.detail ?? 'model'})` : b.label;
    const shown = esc(label.length > 34 ? `${label.slice(0, 33)}…` : label);
    const box = `x="${x(b.start_ms).toFixed(1)}" y="${top}" width="${width.toFixed(1)}" height="${h}"`;
    parts.push(
      `<text x="${8 + b.depth * 14}" y="${y + 15}" class="${main ? 'label' : 'label sub'}">${shown}</text>`,
      `<rect class="bar ${b.kind}" data-status="${esc(b.status)}" ${box} rx="2" fill="${colourOf(b)}"><title>${esc(barTitle(b))}</title></rect>`,
    );
  });
  for (const g of t.gates) {
    const row = rowOf.get(g.step);
    if (row === undefined) continue;
    const cx = x(g.at_ms);
    const cy = AXIS_H + row * ROW_H + ROW_H / 2;
    const fill = g.decision === 'approved' ? '#0b7285' : g.decision === 'rejected' ? '#c92a2a' : '#ffffff';
    const points = `${cx},${cy - 6} ${cx + 6},${cy} ${cx},${cy + 6} ${cx - 6},${cy}`;
    parts.push(`<polygon class="gate" points="${points}" fill="${fill}" stroke="#212529" stroke-width="1"><title>${esc(gateTitle(g))}</title></polygon>`);
  }
  const width = LABEL_W + CHART_W + 20;
  return `<svg role="img" aria-label="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  const header = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${header}</tr></thead><tbody>${body}</tbody></table>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#212529;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#495057}.status{font-weight:600}
.legend span{display:inline-block;margin-right:14px;color:#495057}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:-1px}
svg{display:block;border:1px solid #dee2e6;border-radius:4px;background:#fff}
.grid{stroke:#f1f3f5}.tick{font-size:11px;fill:#868e96;text-anchor:middle}
.label{font-size:12px;fill:#212529}.label.sub{fill:#495057;font-size:11px}
table{border-collapse:collapse;margin:4px 0}th,td{border-bottom:1px solid #e9ecef;padding:4px 10px;text-align:left;vertical-align:top}
th{font-weight:600;color:#495057}td.num{text-align:right}.err{color:#c92a2a;white-space:pre-wrap}.none{color:#868e96}
`;

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script, and a
 * Content-Security-Policy that lets the page load nothing at all, so opening it fetches nothing.
 */
export function timelineHtml(t: Timeline): string {
  const what = t.kind === 'workflow' ? `workflow ${t.name}` : t.name;
  const legend = [
    ...['succeeded', 'failed', 'rejected', 'running', 'waiting'].map((s) => [s, STATUS_COLOURS[s] ?? '']),
    ['model call', CALL_COLOURS.model],
    ['tool call', CALL_COLOURS.tool],
    ['failed tool call', CALL_COLOURS.toolFailed],
  ]
    .map(([name, colour]) => `<span><i style="background:${colour}"></i>${esc(name ?? '')}</span>`)
    .join('');
  const steps = table(
    [t.kind === 'workflow' ? 'step' : 'subtask', 'agent', 'instance', 'status', 'attempts', 'start', 'duration', 'usage', 'error'],
    t.steps.map((s) => [
      esc(s.id),
      esc(s.agent ?? ''),
      esc(s.instance ?? ''),
      `<span class="status">${esc(s.status)}</span>`,
      String(s.attempts),
      s.start_ms === null ? '' : `+${esc(formatDuration(s.start_ms))}`,
      s.duration_ms === null ? '' : esc(formatDuration(s.duration_ms)),
      esc(usageOf(s.usage)),
      `<span class="err">${esc(s.error ?? '')}</span>`,
    ]),
  );
  const gates = table(
    ['step', 'gate', 'decision', 'by', 'how', 'when', 'reason'],
    t.gates.map((g) => [g.step, g.tool ? `tool call ${g.tool}` : g.when, g.decision, g.by ?? '', g.method ?? '', g.at, g.reason ?? ''].map(esc)),
  );
  const agents = table(
    ['agent', 'input tokens', 'output tokens', 'cost (USD)'],
    Object.entries(t.by_agent).map(([a, u]) => [esc(a), String(u.input_tokens), String(u.output_tokens), u.cost_usd?.toFixed(4) ?? '']),
  );
  const errors = table(
    ['when', 'where', 'error'],
    t.errors.map((e) => [esc(e.at), esc(e.where), `<span class="err">${esc(`${e.code ? `${e.code} ` : ''}${e.message}`)}</span>`]),
  );
  const meta = [
    `${t.kind === 'workflow' ? 'run' : 'task'} ${t.id}`,
    `started ${t.started_at}`,
    ...(t.ended_at ? [`ended ${t.ended_at}`] : []),
    formatDuration(t.duration_ms),
    ...(t.usage ? [usageText(t.usage)] : []),
  ].join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`orch report: ${what} ${t.status}`)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(what)} <span class="status">${esc(t.status)}</span></h1>
<p class="meta">${esc(meta)}</p>
<h2>Timeline</h2>
<p class="legend">${legend}<span>◆ gate</span></p>
${t.bars.length > 0 ? gantt(t) : '<p class="none">nothing ran</p>'}
<h2>${t.kind === 'workflow' ? 'Steps' : 'Subtasks'}</h2>
${steps}
<h2>Gates</h2>
${gates}
<h2>Usage by agent</h2>
${agents}
<p class="meta">total: ${esc(t.usage ? usageText(t.usage) : 'no model calls')}</p>
<h2>Errors</h2>
${errors}
</body>
</html>
`;
}
