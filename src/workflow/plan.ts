import type { StepDef, WorkflowDef } from '../config/model.js';

/** Steps in waves: each wave needs only earlier waves, so a wave's steps may run together. */
export function waves(workflow: WorkflowDef): StepDef[][] {
  const level = new Map<string, number>();
  const byId = new Map(workflow.steps.map((s) => [s.id, s]));
  const depth = (step: StepDef, seen: Set<string>): number => {
    const known = level.get(step.id);
    if (known !== undefined) return known;
    if (seen.has(step.id)) return 0;
    seen.add(step.id);
    const d = Math.max(-1, ...step.needs.map((n) => {
      const need = byId.get(n);
      return need ? depth(need, seen) : -1;
    })) + 1;
    level.set(step.id, d);
    return d;
  };
  const out: StepDef[][] = [];
  for (const step of workflow.steps) {
    const d = depth(step, new Set());
    (out[d] ??= []).push(step);
  }
  return out.filter((w) => w.length > 0);
}

function gateText(step: StepDef): string {
  if (!step.gate) return '';
  return step.gate.type === 'approval_required' ? ` [approval ${step.gate.when}]` : ' [tests must pass]';
}

/** `orch run <workflow> --dry-run`: what would run, in which order, behind which gates. */
export function describePlan(workflow: WorkflowDef): string {
  const lines = [`workflow ${workflow.name}: ${workflow.steps.length} step${workflow.steps.length === 1 ? '' : 's'}`];
  if (workflow.inputs.length > 0) {
    lines.push(`inputs: ${workflow.inputs.map((i) => `${i.name} (${i.type}${i.required ? ', required' : ''}${i.default !== undefined ? `, default ${JSON.stringify(i.default)}` : ''})`).join(', ')}`);
  }
  waves(workflow).forEach((wave, i) => {
    lines.push(`${i + 1}. ${wave.length > 1 ? 'in parallel:' : ''}`.trimEnd());
    for (const s of wave) {
      const extras = [s.needs.length ? `needs ${s.needs.join(', ')}` : '', s.if ? `if ${s.if}` : '', s.retry ? `retry ${s.retry.max}` : '', s.onFailure !== 'abort' ? `on failure ${s.onFailure}` : '']
        .filter(Boolean)
        .join('; ');
      lines.push(`   ${s.id}: ${s.agent} → ${s.action}${gateText(s)}${extras ? ` (${extras})` : ''}`);
    }
  });
  const gates = workflow.steps.filter((s) => s.gate);
  lines.push(gates.length ? `gates: ${gates.map((s) => `${s.id}${gateText(s)}`).join(', ')}` : 'gates: none');
  return `${lines.join('\n')}\n`;
}

/** `orch graph`: the workflow as a Mermaid flowchart. */
export function mermaid(workflow: WorkflowDef): string {
  const id = (s: string): string => `s_${s.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const label = (s: string): string => s.replace(/"/g, '#quot;');
  const lines = ['flowchart TD'];
  for (const s of workflow.steps) {
    const text = label(`${s.id}<br/>${s.agent}: ${s.action}${gateText(s)}`);
    // Approval gates are hexagons, test gates rounded: a reviewer spots the checkpoints.
    const shape = s.gate?.type === 'approval_required' ? `{{"${text}"}}` : s.gate?.type === 'tests_must_pass' ? `(["${text}"])` : `["${text}"]`;
    lines.push(`  ${id(s.id)}${shape}`);
  }
  for (const s of workflow.steps) {
    for (const n of s.needs) lines.push(`  ${id(n)} --> ${id(s.id)}`);
  }
  return `${lines.join('\n')}\n`;
}
