import type { StepDef } from '../config/model.js';
import { gateDecision, type RunState, type StepState } from '../state/run-state.js';

export type Phase = 'pending' | 'running' | 'done' | 'failed' | 'waiting' | 'blocked';

/** A step as the scheduler tracks it. */
export interface StepNode {
  readonly step: StepDef;
  phase: Phase;
  /** Needs not yet done: the step is ready at 0. */
  unmet: number;
  /** The steps that need this one. */
  readonly dependents: StepNode[];
  /** The steps this one needs, in the order of its `needs` (undefined for an id the workflow lacks). */
  readonly needs: (StepNode | undefined)[];
}

/**
 * Where each step of a run stands, and which are ready. Readiness is kept incrementally
 * (unmet needs per step, dependents per step), so each completion costs work in
 * proportion to its dependents, not to the whole workflow; and the engine holds each
 * step's node, so it never looks a step up by id on the way.
 */
export class StepGraph {
  /** The steps, in the workflow's order. */
  readonly nodes: readonly StepNode[];
  private ready: StepNode[] = [];

  constructor(steps: readonly StepDef[], state: RunState) {
    const byId = new Map<string, StepNode>();
    const nodes = steps.map((s): StepNode => ({ step: s, phase: initialPhase(state.steps.get(s.id), s), unmet: 0, dependents: [], needs: [] }));
    for (const node of nodes) byId.set(node.step.id, node);
    for (const node of nodes) {
      for (const n of node.step.needs) {
        const need = byId.get(n);
        node.needs.push(need);
        need?.dependents.push(node);
        if (need?.phase !== 'done') node.unmet++;
      }
    }
    this.nodes = nodes;
    for (const node of nodes) if (node.phase === 'pending' && node.unmet === 0) this.ready.push(node);
  }

  /** The step is done: those that needed only it (and others done) become ready. */
  markDone(node: StepNode): void {
    node.phase = 'done';
    for (const d of node.dependents) {
      d.unmet--;
      if (d.unmet === 0 && d.phase === 'pending') this.ready.push(d);
    }
  }

  /** The steps that became ready since the last call, in the order they did. */
  takeReady(): StepNode[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }
}

/** Where a step stands when a run (re)starts: finished work stays finished. */
function initialPhase(s: StepState | undefined, step: StepDef): Phase {
  if (!s) return 'pending';
  if (s.status === 'rejected') return 'failed';
  if (s.completed) {
    const after = step.gate?.type === 'approval_required' && step.gate.when === 'after';
    if (s.status === 'skipped' || !after) return 'done';
    return gateDecision(s, 'after') === 'approved' ? 'done' : 'pending';
  }
  return 'pending';
}
