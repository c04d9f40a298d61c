/**
 * Everything that happens to a workflow run, as appended to its journal. A run's state is
 * a fold over these (run-state.ts); nothing else is stored.
 */
export type GateDecision = 'approved' | 'rejected';

/** How a gate was decided: at the terminal prompt, by a flag given up front, or by a later command. */
export type DecisionMethod = 'prompt' | 'flag' | 'command';

export type RunEvent =
  | { type: 'run_started'; at: string; run_id: string; workflow: string; inputs: Record<string, unknown>; dir: string; pid: number }
  | { type: 'run_resumed'; at: string; pid: number }
  | { type: 'step_started'; at: string; step: string; attempt: number }
  | { type: 'step_succeeded'; at: string; step: string; output: unknown; duration_ms: number }
  | { type: 'step_failed'; at: string; step: string; error: string; attempt: number; duration_ms: number; final: boolean }
  /** `blocked`: skipped because a step it needs failed — reconsidered on resume. */
  | { type: 'step_skipped'; at: string; step: string; reason: string; blocked: boolean }
  | { type: 'gate_waiting'; at: string; step: string; gate: string; when: 'before' | 'after' }
  | {
      type: 'gate_decided';
      at: string;
      step: string;
      decision: GateDecision;
      by: string;
      method: DecisionMethod;
      when: 'before' | 'after';
      reason?: string;
    }
  | { type: 'run_paused'; at: string; waiting: string[] }
  | { type: 'run_interrupted'; at: string; signal: string }
  | { type: 'run_finished'; at: string; status: 'succeeded' | 'failed' };

/** The event without its timestamp, as callers write it. */
export type NewEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;
