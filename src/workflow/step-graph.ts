import type { StepDef } from '../config/model.js';
import { gateDecision, type RunState, type StepState } from '../state/run-state.js';

export type Phase = 'pending' | 'running' | 'done' | 'failed' | 'waiting' | 'blocked';

/** A step as the scheduler tracks it. */
interface Node {
  step: StepDef;
  phase: Phase;
  /** Needs not yet done: the step is ready at 0. */
  unmet: number;
  /** The steps that need this one. */
  dependents: Node[];
}

/**
 * Where each step of a run stands, and which are ready. Readiness is kept incrementally
 * (unmet needs per step, dependents per step), so each completion costs work in
 * proportion to its dependents, not to the whole workflow.
 */
export class StepGraph {
  private readonly nodes = new Map<string, Node>();
  private ready: StepDef[] = [];

  constructor(steps: readonly StepDef[], state: RunState) {
    for (const s of steps) this.nodes.set(s.id, { step: s, phase: initialPhase(state.steps.get(s.id), s), unmet: 0, dependents: [] });
    for (const node of this.nodes.values()) {
      for (const n of node.step.needs) {
        this.nodes.get(n)?.dependents.push(node);
        if (this.phase(n) !== 'done') node.unmet++;
      }
    }
    for (const node of this.nodes.values()) if (node.phase === 'pending' && node.unmet === 0) this.ready.push(node.step);
  }

  phase(id: string): Phase | undefined {
    return this.nodes.get(id)?.phase;
  }

  setPhase(id: string, phase: Phase): void {
    const node = this.nodes.get(id);
    if (node) node.phase = phase;
  }

  /** The step is done: those that needed only it (and others done) become ready. */
  markDone(id: string): void {
    const node = this.nodes.get(id);
    if (!node) return;
    node.phase = 'done';
    for (const d of node.dependents) {
      d.unmet--;
      if (d.unmet === 0 && d.phase === 'pending') this.ready.push(d.step);
    }
  }

  /** The steps that became ready since the last call, in the order they did. */
  takeReady(): StepDef[] {
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
