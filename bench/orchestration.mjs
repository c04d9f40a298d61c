// Orchestration throughput and footprint: subtasks per second through `orchestrate` with a
// no-op in-process tool on pools of 1, 10 and 100 workers (leasing, planning, the report
// and its fsync'd files included), and memory per idle agent instance at 1,000 instances,
// in the registry and as leased executor slots, plus its size on disk.
// Usage: npm run bench orchestration   (BENCH_SUBTASKS, BENCH_ROUNDS change the sample size)
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject } from '../dist/config/load.js';
import { invokeTool } from '../dist/tools/invoke.js';
import { scalePool } from '../dist/agents/pool.js';
import { AgentStore } from '../dist/agents/store.js';
import { emptyRegistry } from '../dist/agents/types.js';
import { Slots } from '../dist/engine/slots.js';

const SUBTASKS = Number(process.env.BENCH_SUBTASKS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const INSTANCES = 1000;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-orch-'));

function project(workers) {
  const dir = path.join(tmp, `w${workers}`);
  mkdirSync(path.join(dir, 'handlers'), { recursive: true });
  writeFileSync(path.join(dir, 'handlers', 'bench.mjs'), 'export function noop() { return null; }\n');
  writeFileSync(
    path.join(dir, 'gantz.yaml'),
    `name: bench\ntools:\n  noop: { description: nothing, handler: bench.noop }\n  orchestrate:\n    description: orchestrate\n    parameters: { task: { type: object, required: true } }\n    handler: orchestration.orchestrate\n`,
  );
  writeFileSync(path.join(dir, 'agent-team.yaml'), `agents:\n  - { role: worker, count: ${workers} }\n`);
  return dir;
}

async function throughput(workers) {
  const { project: p } = await loadProject({ dir: project(workers), env: {} });
  const task = { subtasks: Array.from({ length: SUBTASKS }, (_, i) => ({ id: `s${i}`, tool: 'noop' })) };
  await invokeTool(p, 'orchestrate', { task: { subtasks: task.subtasks.slice(0, 50) } }); // warm up
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    const { value } = await invokeTool(p, 'orchestrate', { task });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (value.status !== 'completed') throw new Error(`round ${r} ended ${value.status}`);
    rates.push(SUBTASKS / seconds);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

function heap() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

async function footprint() {
  const type = { name: 'worker', tools: 'all', count: 0, isolation: 'inline' };
  const before = heap();
  const registry = emptyRegistry();
  scalePool(registry, type, INSTANCES);
  const inRegistry = (heap() - before) / INSTANCES;
  const ids = registry.pools.worker.instances.map((a) => a.id);
  const beforeSlots = heap();
  const executor = new Slots(new Map([['worker', ids]]), () => ({ run: async () => ({ output: null }), stop: async () => undefined }));
  const inExecutor = (heap() - beforeSlots) / INSTANCES;
  const dir = path.join(tmp, 'registry');
  const store = new AgentStore(dir);
  await store.update((r) => scalePool(r, type, INSTANCES));
  const onDisk = statSync(store.file).size / INSTANCES;
  await executor.close();
  return { inRegistry, inExecutor, onDisk, keep: registry };
}

try {
  if (!globalThis.gc) console.log('(run with --expose-gc for steadier memory figures)');
  console.log(`orchestrate, ${SUBTASKS} no-op subtasks, median of ${ROUNDS} rounds:`);
  for (const workers of [1, 10, 100]) {
    const rate = await throughput(workers);
    console.log(`  ${String(workers).padStart(3)} workers: ${Math.round(rate).toLocaleString('en-US').padStart(8)} subtasks/s`);
  }
  const f = await footprint();
  console.log(`idle agent instance, at ${INSTANCES.toLocaleString('en-US')} instances:`);
  console.log(`  registry (in memory): ${Math.round(f.inRegistry)} B   executor slot: ${Math.round(f.inExecutor)} B   registry.json: ${Math.round(f.onDisk)} B`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
