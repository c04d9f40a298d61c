// Workflow engine CPU beyond the journal: executeRun over an in-memory journal that does
// what the real one does before its write (timestamp, redaction hook, one JSON line), for
// 10, 100 and 1,000 sequential no-op steps, minus the same journal traffic without the
// engine, measured in the same run. Target: at most 10 µs per step, flat across sizes.
// A second line runs the same steps through the engine's queue (a session's slots and the
// step runner that submits to them, with a worker that does nothing), as `orch run` does.
// Usage: npm run bench engine-cpu   (BENCH_ROUNDS changes the sample size)
import os from 'node:os';
import { executeRun } from '../dist/workflow/engine.js';
import { foldRun } from '../dist/state/run-state.js';
import { sessionRunner } from '../dist/workflow/runner.js';
import { Slots } from '../dist/engine/slots.js';
import { isoTime } from '../dist/util/iso-time.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const TARGET_US = 10;
const origin = { file: 'bench', path: [] };

/** The real Journal's work per append, short of the file: the timestamped event and its line. */
class MemoryJournal {
  appended = [];
  bytes = 0;
  syncs = 0;
  async append(event, options = {}) {
    const full = Object.assign({}, event, { at: isoTime(Date.now()) });
    this.appended.push(full);
    this.bytes += `${JSON.stringify(full)}\n`.length;
    if (options.sync !== false) this.syncs++;
    // As the real Journal: the event as given (what the run goes on with) and as written (redacted).
    return { event: full, written: full };
  }
  async close() {}
}

function workflow(n) {
  const steps = Array.from({ length: n }, (_, i) => ({ id: `s${i}`, agent: 'worker', action: 'noop', with: { i }, needs: i === 0 ? [] : [`s${i - 1}`], onFailure: 'abort', origin }));
  return { name: 'sequential', inputs: [], steps, origin };
}

function cpuOf(fn) {
  return async () => {
    const before = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(before);
    return used.user + used.system;
  };
}

const idleWorker = { run: async () => ({ output: null }), stop: async () => {} };

/** A session over one leased instance, as LocalEngine.open builds it, minus the registry on disk. */
function queuedRunner(signal) {
  const slots = new Slots(new Map([['worker', ['worker-1']]]), () => idleWorker, signal);
  return sessionRunner({ submit: (task, hooks) => slots.submit(task, hooks), healthyAgents: async () => slots.healthyAgents('worker') }, 'r');
}

async function engine(n, queued = false) {
  const journal = new MemoryJournal();
  await journal.append({ type: 'run_started', run_id: 'r', workflow: 'sequential', inputs: {}, dir: '.', pid: process.pid });
  const state = foldRun(journal.appended);
  const wf = workflow(n);
  const signal = new AbortController().signal;
  const runStep = queued ? queuedRunner(signal) : async () => ({ output: null });
  return cpuOf(async () => {
    const outcome = await executeRun({ workflow: wf, journal, state, runStep, approve: new Set(), approveAll: false, who: 'bench', signal });
    if (outcome !== 'succeeded') throw new Error(`run ${outcome}`);
  })();
}

/** The same events the engine writes for n sequential steps (a start, a success, the end), without the engine. */
async function journalAlone(n) {
  const journal = new MemoryJournal();
  const ids = workflow(n).steps.map((s) => s.id);
  return cpuOf(async () => {
    for (const id of ids) {
      await journal.append({ type: 'step_started', step: id, attempt: 1, agent: 'worker' }, { sync: false });
      await journal.append({ type: 'step_succeeded', step: id, output: null, duration_ms: 0 });
    }
    await journal.append({ type: 'run_finished', status: 'succeeded' });
  })();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const figures = [];
const queuedFigures = [];
const queued = (n) => engine(n, true);
for (const n of [10, 100, 1000]) {
  const reps = Math.max(1, Math.round(2000 / n)); // about 2,000 steps per sample
  const sample = async (fn) => {
    let total = 0;
    for (let r = 0; r < reps; r++) total += await fn(n);
    return total / (reps * n);
  };
  for (let w = 0; w < 3; w++) await sample(engine), await sample(queued), await sample(journalAlone);
  const withEngine = [];
  const withQueue = [];
  const alone = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Each sample after a young-generation collection of its own, in an order that turns each
    // round, so no sample pays for the garbage of the one before it. Not a full collection:
    // that discards the optimised code that referred to objects of the runs it frees (V8
    // deoptimises it), and every sample would pay for optimising the engine again — a cost
    // of the JIT's warm-up, once per run at most, not of each step.
    const order = [[engine, withEngine], [queued, withQueue], [journalAlone, alone]];
    for (let k = 0; k < order.length; k++) {
      const [fn, into] = order[(k + r) % order.length];
      globalThis.gc?.({ type: 'minor' });
      into.push(await sample(fn));
    }
  }
  const beyond = median(withEngine) - median(alone);
  const beyondQueued = median(withQueue) - median(alone);
  figures.push(beyond);
  queuedFigures.push(beyondQueued);
  const load = os.loadavg()[0].toFixed(2);
  console.log(`${String(n).padStart(5)} sequential steps: engine CPU beyond the journal ${beyond.toFixed(1)} µs per step, ${beyondQueued.toFixed(1)} µs through the engine's queue (journal alone ${median(alone).toFixed(1)} µs; target <= ${TARGET_US} µs; load average ${load} on ${os.cpus().length} CPUs)`);
}
const flatness = (xs) => (Math.max(...xs) / Math.max(0.1, Math.min(...xs))).toFixed(2);
console.log(`flatness: largest / smallest per-step figure ${flatness(figures)}x (through the queue ${flatness(queuedFigures)}x) across 10 -> 1,000 steps`);
