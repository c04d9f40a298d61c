import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import type { StepDef, WorkflowDef } from '../../src/config/model.js';
import type { EngineSession } from '../../src/engine/engine.js';
import { Slots } from '../../src/engine/slots.js';
import type { Worker } from '../../src/engine/worker.js';
import type { RunEvent } from '../../src/state/events.js';
import { Journal, readJournal } from '../../src/state/journal.js';
import { foldRun, type RunState } from '../../src/state/run-state.js';
import { executeRun, type EngineOutcome, type GateAsker, type GateRequest, type StepRunner } from '../../src/workflow/engine.js';
import { sessionRunner } from '../../src/workflow/runner.js';

// Every construction of the engine's options and of the fake step runner is in this file,
// so a change to executeRun's options or to the StepRunner signature is absorbed here and
// the tests (which speak only of steps, calls and journal events) stay as they are.

const ORIGIN = { file: 'engine-harness', path: [] };
const AGENT = 'worker';

/** A step as agent-team.yaml would give it after normalisation; `more` overrides the defaults. */
export function step(id: string, more: Partial<Omit<StepDef, 'id'>> = {}): StepDef {
  return { id, agent: AGENT, action: 'work', with: {}, needs: [], onFailure: 'abort', origin: ORIGIN, ...more };
}

/** One call the engine made to the step runner. */
export interface StepCall {
  step: string;
  args: Record<string, unknown>;
  /** The engine's attempt number for this call (1 for the first). */
  attempt: number;
}

/** What a fake step sees besides its arguments. */
export interface StepContext {
  attempt: number;
  /** Aborted when the step times out or the run is cancelled. */
  signal: AbortSignal;
  /** Events the journal has acknowledged as durable (appended and synced) so far, as `trail` lines. */
  durable(): string[];
  /** The outputs of the steps this one needs, as the engine handed them over. */
  needs?: Record<string, unknown>;
}

/** A fake step's action: its return value is the step's output; throwing fails the attempt. */
export type StepBehaviour = (args: Record<string, unknown>, ctx: StepContext) => unknown;

/** A gate question as the fake prompt saw it. */
export interface Asked {
  step: string;
  when: 'before' | 'after';
  output?: unknown;
  /** Whether the step's runner had been called (in this session) when the question came. */
  alreadyRan: boolean;
}

export interface WorkflowOptions {
  /** Behaviour per step id; a step without one succeeds with `{ step: <id> }`. */
  runner?: Record<string, StepBehaviour>;
  /** Steps approved up front (`--approve`). */
  approve?: string[];
  approveAll?: boolean;
  /** The fake terminal prompt; absent means no TTY. */
  ask?: (request: GateRequest) => boolean | undefined | Promise<boolean | undefined>;
  inputs?: Record<string, unknown>;
  /** Pool size of the agent every step uses; default: large enough for all steps at once. */
  pool?: number;
  /** Cancels the run, as Ctrl-C does. */
  signal?: AbortSignal;
  /** Resume this earlier run (its journal and folded state) instead of starting a new one. */
  resume?: WorkflowRun;
}

export interface WorkflowRun {
  outcome: EngineOutcome;
  /** The events this session appended, as read back from the journal file, in order. */
  events: RunEvent[];
  /** The run's state folded from the whole journal file. */
  state: RunState;
  calls: StepCall[];
  asked: Asked[];
  file: string;
}

/** Runs `steps` as one workflow through executeRun over a real journal in a temp dir. */
export async function runWorkflow(steps: StepDef[], options: WorkflowOptions = {}): Promise<WorkflowRun> {
  const file = options.resume?.file ?? tempJournal();
  const before = options.resume ? (await readJournal(file)).length : 0;
  const journal = await Journal.open(file);
  const workflow: WorkflowDef = { name: 'test', inputs: [], steps, origin: ORIGIN };
  const pool = options.pool ?? Math.max(1, steps.length);
  const calls: StepCall[] = [];
  const asked: Asked[] = [];
  let state: RunState | undefined;
  // Watches the real journal's acknowledgements: an acknowledged synced append makes it and
  // everything acknowledged before it durable (group commit); an unsynced one is only written.
  const acknowledged: string[] = [];
  const durable: string[] = [];
  const append = journal.append.bind(journal);
  journal.append = (event, appendOptions) => {
    const written = append(event, appendOptions);
    const synced = appendOptions?.sync !== false;
    void written.then(
      ({ written: e }) => {
        acknowledged.push(...trail([e]));
        if (synced) durable.splice(0, durable.length, ...acknowledged);
      },
      () => undefined,
    );
    return written;
  };

  // The steps run as the session runs them: queued on the engine's slots for `pool`
  // instances of the agent, performed by a fake worker that plays each step's behaviour.
  const worker: Worker = {
    run: async (task, _instance, signal) => {
      const id = task.ids.step ?? task.key;
      const attempt = task.ids.attempt ?? 0;
      calls.push({ step: id, args: task.input, attempt });
      const behaviour = options.runner?.[id] ?? (() => ({ step: id }));
      return { output: await behaviour(task.input, { attempt, signal, durable: () => [...durable], needs: task.step?.needs }) };
    },
    stop: async () => undefined,
  };
  const ids = Array.from({ length: pool }, (_, i) => `${AGENT}-${i + 1}`);
  // As a run's session is opened: on the run's own signal.
  const signal = options.signal ?? new AbortController().signal;
  const slots = new Slots(new Map([[AGENT, ids]]), () => worker, signal);
  const session: EngineSession = {
    submit: (task, hooks) => slots.submit(task, hooks),
    capacity: async (type) => slots.capacity(type),
    healthyAgents: async (type) => slots.healthyAgents(type),
    leased: () => new Map([[AGENT, ids]]),
    close: () => slots.close(),
  };
  const runStep: StepRunner = sessionRunner(session, 'run-1', steps);
  const ask: GateAsker | undefined = options.ask
    ? async (request) => {
        const alreadyRan = calls.some((c) => c.step === request.step.id);
        asked.push({ step: request.step.id, when: request.when, output: request.output, alreadyRan });
        return options.ask?.(request);
      }
    : undefined;

  let outcome: EngineOutcome;
  try {
    if (options.resume) await journal.append({ type: 'run_resumed', pid: process.pid });
    else {
      const inputs = options.inputs ?? {};
      const dir = path.dirname(file);
      await journal.append({ type: 'run_started', run_id: 'run-1', workflow: workflow.name, inputs, dir, pid: process.pid });
    }
    state = foldRun(await readJournal(file));
    if (!state) throw new Error('the journal did not start a run');
    outcome = await executeRun({
      workflow,
      journal,
      state,
      runStep,
      approve: new Set(options.approve ?? []),
      approveAll: options.approveAll ?? false,
      ask,
      who: 'tester',
      signal,
    });
  } finally {
    await slots.close();
    await journal.close();
  }
  const all = await readJournal(file);
  const folded = foldRun(all);
  if (!folded) throw new Error('the journal lost its run_started event');
  return { outcome, events: all.slice(before), state: folded, calls, asked, file };
}

/** Events as short lines (`step_succeeded a`, `run_finished succeeded`), for asserting order. */
export function trail(events: readonly RunEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'run_finished':
        return `${e.type} ${e.status}`;
      case 'run_paused':
        return `${e.type} ${e.waiting.join(',')}`;
      case 'gate_decided':
        return `${e.type} ${e.step} ${e.when} ${e.decision}`;
      default:
        return 'step' in e ? `${e.type} ${e.step}` : e.type;
    }
  });
}

/** Resolves when `signal` aborts; a fake step that waits for its cancellation or timeout. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * A meeting point for `ids`: each caller waits until all of them have arrived, which they
 * can only do if they run at the same time. The deadline only turns a hang into a clear
 * failure; nothing is measured.
 */
export function together(ids: readonly string[], deadlineMs = 5_000): (id: string) => Promise<void> {
  const arrived = new Set<string>();
  let open: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (open = resolve));
  return async (id) => {
    arrived.add(id);
    if (ids.every((i) => arrived.has(i))) open();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${[...arrived].join(', ')} of ${ids.join(', ')} were running together`)), deadlineMs);
    });
    try {
      await Promise.race([all, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}

function tempJournal(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-engine-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'journal.jsonl');
}
