import type { WorkflowDef } from '../config/model.js';
import type { UsageRecord } from '../state/events.js';
import { addUsage, type RunState, type StepState } from '../state/run-state.js';

/** One step as `--json` and the reports show it. */
export interface StepReport {
  id: string;
  status: StepState['status'];
  output: unknown;
  error: string | null;
  started_at: string | null;
  duration_ms: number | null;
  /** Tokens an LLM step's model calls used; absent for a tool step. */
  usage?: UsageRecord;
  /** What they cost, when the model's price is known. */
  cost_usd?: number;
  /** A model's tool call waiting for approval. */
  pending_tool_call?: { tool: string; input: Record<string, unknown> };
}

export interface RunReport {
  run_id: string;
  workflow: string;
  status: RunState['status'];
  steps: StepReport[];
  /** The whole run's LLM usage; absent when no step called a model. */
  usage?: UsageRecord;
  cost_usd?: number;
}

/** The `--json` document: every step of the workflow, in declaration order. */
export function runReport(state: RunState, workflow: WorkflowDef): RunReport {
  let total: UsageRecord | undefined;
  const steps = workflow.steps.map((def): StepReport => {
    const s = state.steps.get(def.id);
    const report: StepReport = {
      id: def.id,
      status: s?.status ?? 'pending',
      output: s?.output ?? null,
      error: s?.error ?? null,
      started_at: s?.startedAt ?? null,
      duration_ms: s?.durationMs ?? null,
    };
    if (s?.usage) {
      total = addUsage(total, s.usage);
      report.usage = { input_tokens: s.usage.input_tokens, output_tokens: s.usage.output_tokens };
      if (s.usage.cost_usd !== undefined) report.cost_usd = s.usage.cost_usd;
    }
    if (s?.pendingToolCall) report.pending_tool_call = { tool: s.pendingToolCall.tool, input: s.pendingToolCall.input };
    return report;
  });
  const run: RunReport = { run_id: state.runId, workflow: state.workflow, status: state.status, steps };
  if (total) {
    run.usage = { input_tokens: total.input_tokens, output_tokens: total.output_tokens };
    if (total.cost_usd !== undefined) run.cost_usd = total.cost_usd;
  }
  return run;
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** JUnit XML: one testcase per step, so CI systems show steps as tests. */
export function junitReport(report: RunReport, skipReasons: ReadonlyMap<string, string>): string {
  const failures = report.steps.filter((s) => s.status === 'failed' || s.status === 'rejected').length;
  const skipped = report.steps.filter((s) => s.status === 'skipped' || s.status === 'pending' || s.status === 'waiting').length;
  const total = report.steps.reduce((t, s) => t + (s.duration_ms ?? 0), 0) / 1000;
  const cases = report.steps.map((s) => {
    const props = s.usage
      ? `\n      <properties>\n        <property name="input_tokens" value="${s.usage.input_tokens}"/>\n        <property name="output_tokens" value="${s.usage.output_tokens}"/>${s.cost_usd === undefined ? '' : `\n        <property name="cost_usd" value="${s.cost_usd}"/>`}\n      </properties>`
      : '';
    const open = `    <testcase name="${xml(s.id)}" classname="${xml(report.workflow)}" time="${((s.duration_ms ?? 0) / 1000).toFixed(3)}"`;
    if (props && s.status === 'succeeded') return `${open}>${props}\n    </testcase>`;
    switch (s.status) {
      case 'failed':
      case 'rejected':
        return `${open}>\n      <failure message="${xml(s.error ?? s.status)}" type="${s.status}">${xml(s.error ?? '')}</failure>\n    </testcase>`;
      case 'skipped':
        return `${open}>\n      <skipped message="${xml(skipReasons.get(s.id) ?? 'skipped')}"/>\n    </testcase>`;
      case 'pending':
      case 'waiting':
      case 'running':
        return `${open}>\n      <skipped message="${s.status === 'waiting' ? 'awaits approval' : 'did not run'}"/>\n    </testcase>`;
      case 'succeeded':
        return `${open}/>`;
      default: {
        const never: never = s.status;
        return never;
      }
    }
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="orch" tests="${report.steps.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">`,
    `  <testsuite name="${xml(report.workflow)}" id="${xml(report.run_id)}" tests="${report.steps.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** GitHub Actions `::error` lines for failed steps, pointing at the step in agent-team.yaml. */
export function githubAnnotations(report: RunReport, locate: (stepId: string) => { file?: string; line?: number }): string[] {
  const esc = (t: string): string => t.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (t: string): string => esc(t).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return report.steps
    .filter((s) => s.status === 'failed' || s.status === 'rejected')
    .map((s) => {
      const where = locate(s.id);
      const props = [where.file && `file=${prop(where.file)}`, where.line && `line=${where.line}`, `title=${prop(`step ${s.id} ${s.status}`)}`].filter(Boolean);
      return `::error ${props.join(',')}::${esc(s.error ?? s.status)}`;
    });
}

/** A Markdown step summary for `$GITHUB_STEP_SUMMARY`. */
export function markdownSummary(report: RunReport): string {
  const rows = report.steps.map((s) => `| \`${s.id}\` | ${s.status} | ${s.duration_ms === null ? '' : `${s.duration_ms} ms`} | ${(s.error ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  return [`### orch: ${report.workflow} — ${report.status}`, '', `Run \`${report.run_id}\``, '', '| step | status | duration | error |', '|---|---|---|---|', ...rows, ''].join('\n');
}
