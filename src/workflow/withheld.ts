import { planAction } from '../agents/runtime.js';
import type { Project, StepDef, WorkflowDef } from '../config/model.js';
import { ExitCode, OrchError } from '../errors.js';
import { evaluate, pathsRead, pathText, type Scope } from '../lang/expressions.js';
import { REDACTED, redactedPath } from '../secrets/redact.js';
import { gateDecision, type RunState, type StepState } from '../state/run-state.js';
import { checkInputType } from './inputs.js';

/**
 * A run's journal holds secrets only as `[REDACTED]`: what a resumed run reads of its
 * earlier self (its inputs, the outputs of finished steps, an LLM step's conversation)
 * may not be what the steps had. Such a value is never handed to a step in place of the
 * real one: an input can be given again (`orch resume <run> --input`), a step's output
 * cannot (finished steps are not run again), and the resume is refused, naming both.
 */

/**
 * The run's inputs with those given again filled in. Only inputs whose journalled value
 * holds a redaction may be given: the others are the run's own and stay as they were.
 */
export function restoreInputs(workflow: WorkflowDef, state: RunState, given: Record<string, unknown>): Record<string, unknown> {
  const declared = new Map(workflow.inputs.map((i) => [i.name, i]));
  for (const [name, value] of Object.entries(given)) {
    const input = declared.get(name);
    if (!input) {
      throw new OrchError('ORCH_INPUT', `workflow \`${workflow.name}\` has no input \`${name}\``, {
        hint: declared.size ? `its inputs: ${[...declared.keys()].join(', ')}` : 'it declares no inputs',
        exitCode: ExitCode.usage,
      });
    }
    if (redactedPath(state.inputs[name]) === undefined) {
      throw new OrchError('ORCH_INPUT', `input \`${name}\` is stored with run ${state.runId}, and a resumed run keeps it`, {
        hint: `only inputs its journal withheld as ${REDACTED} can be given again; to change \`${name}\`, start a new run`,
        exitCode: ExitCode.usage,
      });
    }
    checkInputType(input, value);
  }
  return { ...state.inputs, ...given };
}

interface Finding {
  step: string;
  reads: string;
  /** An input, which can be given again; otherwise a step's output or conversation, which cannot. */
  input?: string;
}

/** Refuses a resume whose remaining steps would read a value its journal withheld (after `restoreInputs`). */
export function assertNothingWithheld(project: Project, workflow: WorkflowDef, state: RunState): void {
  const steps: Record<string, unknown> = {};
  for (const [id, s] of state.steps) if (s.completed) steps[id] = { output: s.output, status: s.status, error: s.error };
  const scope: Scope = { inputs: state.inputs, steps };

  const findings: Finding[] = [];
  for (const step of workflow.steps) {
    const s = state.steps.get(step.id);
    if (s?.status === 'rejected') continue;
    const runs = !s?.completed;
    // A finished step whose approval after it is still to be given has its `if:` read again.
    if (!runs && !(awaitsAfterGate(step, s) && s?.status !== 'skipped')) continue;
    const paths = [...(step.if === undefined ? [] : pathsRead(step.if, 'condition')), ...(runs ? pathsRead(step.with) : [])];
    for (const path of paths) {
      if (path.root !== 'inputs' && path.root !== 'steps') continue;
      if (redactedPath(evaluate(path, scope)) === undefined) continue;
      const input = path.root === 'inputs' && typeof path.segments[0] === 'string' ? path.segments[0] : undefined;
      findings.push({ step: step.id, reads: `\`${pathText(path)}\``, input });
    }
    if (runs && isLlmStep(project, step)) findings.push(...llmFindings(step, s, state));
  }
  if (findings.length === 0) return;

  const unique = [...new Map(findings.map((f) => [`${f.step} ${f.reads}`, f])).values()];
  const what = unique.map((f) => `step \`${f.step}\` reads ${f.reads}`).join('; ');
  const inputs = [...new Set(unique.flatMap((f) => (f.input === undefined ? [] : [f.input])))];
  const hints: string[] = [];
  if (inputs.length > 0) {
    const example = JSON.stringify(Object.fromEntries(inputs.map((i) => [i, '...'])));
    hints.push(`give ${inputs.length === 1 ? 'it' : 'them'} again: orch resume ${state.runId} --input '${example}'`);
  }
  if (unique.some((f) => f.input === undefined)) {
    const restart = `start a new run with \`orch run ${workflow.name}\``;
    hints.push(`a finished step's output cannot be given back, and finished steps are not run again: ${restart}`);
  }
  throw new OrchError(
    'ORCH_SECRET_WITHHELD',
    `run ${state.runId} cannot resume: ${what}, which held a secret; the journal keeps ${REDACTED} in its place, never the value`,
    { hint: hints.join('; ') },
  );
}

function awaitsAfterGate(step: StepDef, s: StepState | undefined): boolean {
  return step.gate?.type === 'approval_required' && step.gate.when === 'after' && gateDecision(s, 'after') !== 'approved';
}

function isLlmStep(project: Project, step: StepDef): boolean {
  try {
    return planAction(project, step.agent, step.action).kind === 'llm';
  } catch {
    // An action that resolves to nothing fails when the step runs, with its own error.
    return false;
  }
}

/** An LLM step is given the outputs of the steps it needs, and continues its conversation from the journal. */
function llmFindings(step: StepDef, s: StepState | undefined, state: RunState): Finding[] {
  const out: Finding[] = [];
  for (const id of step.needs) {
    const needed = state.steps.get(id);
    if (needed?.completed && redactedPath(needed.output) !== undefined) {
      out.push({ step: step.id, reads: `\`steps.${id}.output\` (given to its model)` });
    }
  }
  if (s && redactedPath(s.conversation) !== undefined) out.push({ step: step.id, reads: 'its conversation with the model so far' });
  return out;
}
