// Workflow engine overhead: per-step wall time, CPU and journal syncs for a 100-step
// sequential workflow and a 100-way fan-out of no-op in-process steps, printed beside the
// cost of one fdatasync measured in the same run on the same disk.
// Target: about one sync per sequential step, group commit for parallel steps, and engine
// CPU per step under 50 µs.
import { mkdtempSync, openSync, writeSync, fdatasyncSync, closeSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { executeRun } from '../dist/workflow/engine.js';
import { Journal } from '../dist/state/journal.js';
import { foldRun } from '../dist/state/run-state.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-wf-'));

function fsyncCost(n = 200) {
  const fd = openSync(path.join(tmp, 'fsync.bin'), 'a');
  const line = Buffer.from(`${JSON.stringify({ type: 'step_succeeded', step: 'x', output: null, duration_ms: 0 })}\n`);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    writeSync(fd, line);
    fdatasyncSync(fd);
  }
  const perSync = Number(process.hrtime.bigint() - start) / n / 1000;
  closeSync(fd);
  return perSync;
}

function workflow(parallel) {
  const steps = Array.from({ length: STEPS }, (_, i) => ({
    id: `s${i}`,
    agent: 'worker',
    action: 'noop',
    with: { i },
    needs: parallel || i === 0 ? [] : [`s${i - 1}`],
    onFailure: 'abort',
    origin: { file: 'bench', path: [] },
  }));
  return { name: parallel ? 'fan-out' : 'sequential', inputs: [], steps, origin: { file: 'bench', path: [] } };
}

async function once(parallel, round) {
  const wf = workflow(parallel);
  const journal = await Journal.open(path.join(tmp, `${wf.name}-${round}.jsonl`));
  await journal.append({ type: 'run_started', run_id: `r${round}`, workflow: wf.name, inputs: {}, dir: tmp, pid: process.pid });
  const state = foldRun(journal.appended);
  const syncsBefore = journal.syncs;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const outcome = await executeRun({
    workflow: wf,
    journal,
    state,
    runStep: async () => ({ output: null }), // a no-op in-process tool: only the engine is measured
    approve: new Set(),
    approveAll: false,
    who: 'bench',
    signal: new AbortController().signal,
  });
  const wallUs = Number(process.hrtime.bigint() - start) / 1000;
  const used = process.cpuUsage(cpu);
  if (outcome !== 'succeeded') throw new Error(`run ${outcome}`);
  const syncs = journal.syncs - syncsBefore;
  await journal.close();
  return { wallUs: wallUs / STEPS, userUs: used.user / STEPS, systemUs: used.system / STEPS, syncsPerStep: syncs / STEPS };
}

/** The same journal traffic as a sequential step (a start, then a synced success), without the engine. */
async function journalOnly(round) {
  const journal = await Journal.open(path.join(tmp, `journal-only-${round}.jsonl`));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < STEPS; i++) {
    await journal.append({ type: 'step_started', step: `s${i}`, attempt: 1 }, { sync: false });
    await journal.append({ type: 'step_succeeded', step: `s${i}`, output: null, duration_ms: 0 });
  }
  const wallUs = Number(process.hrtime.bigint() - start) / 1000;
  const used = process.cpuUsage(cpu);
  await journal.close();
  return { wallUs: wallUs / STEPS, userUs: used.user / STEPS, systemUs: used.system / STEPS };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const fsyncUs = fsyncCost();
console.log(`fdatasync on this disk: ${fsyncUs.toFixed(1)} µs each (mean of 200 appends+syncs)`);
await journalOnly('warmup');
const base = [];
for (let r = 0; r < ROUNDS; r++) base.push(await journalOnly(r));
const baseUser = median(base.map((b) => b.userUs));
console.log(`journal alone (2 appends, 1 sync per step): wall ${median(base.map((b) => b.wallUs)).toFixed(1)} µs, CPU user ${baseUser.toFixed(1)} µs per step`);
for (const parallel of [false, true]) {
  for (let w = 0; w < 3; w++) await once(parallel, `warmup${w}`);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await once(parallel, r));
  const m = (k) => median(rounds.map((x) => x[k]));
  const label = parallel ? `${STEPS}-way fan-out` : `${STEPS}-step sequential`;
  console.log(
    `${label.padEnd(20)} per step: wall ${m('wallUs').toFixed(1)} µs (${(m('wallUs') / fsyncUs).toFixed(2)}× one fdatasync), ` +
      `CPU user ${m('userUs').toFixed(1)} µs (engine beyond the journal: ${(m('userUs') - (parallel ? 0 : baseUser)).toFixed(1)} µs) + system ${m('systemUs').toFixed(1)} µs, ` +
      `${m('syncsPerStep').toFixed(2)} syncs per step`,
  );
}
rmSync(tmp, { recursive: true, force: true });
