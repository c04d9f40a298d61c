// Tool-call overhead of orch against the raw MCP SDK Client, in the same run: per-call
// latency and client CPU per call (sequential, and 8 servers concurrently), and connect
// time of 8 servers in parallel.
// Like with like: the SDK's client CPU depends on the server processes it talks to (two
// fleets of the same server differ by 10-20% from run to run), so the baseline of each
// figure is the raw SDK Client on the very servers orch runs — the Client orch's own
// connection holds, called directly. A raw Client on servers of its own is shown too.
// orch is measured twice: its supervisor (`orch mcp call`) and the agent runtime's path
// (name resolution, the interceptor chain, the audit link), which workflow steps and
// orchestrate subtasks take.
// Usage: npm run bench   (BENCH_BATCHES, BENCH_BATCH_CALLS change the sample size)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Supervisor } from '../dist/mcp/supervisor.js';
import { callTool } from '../dist/agents/runtime.js';
import { defaultInterceptors } from '../dist/agents/interceptors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = path.join(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const BATCHES = Number(process.env.BENCH_BATCHES ?? 100);
const BATCH_CALLS = Number(process.env.BENCH_BATCH_CALLS ?? 40);
const FLEET = 8;
const ARGS = { message: 'benchmark payload' };

const def = (name) => ({
  name,
  transport: 'stdio',
  command: process.execPath,
  args: [SERVER, 'stdio'],
  env: {},
  headers: {},
  startupTimeoutMs: 30_000,
  origin: { file: 'bench', path: ['mcpServers', name] },
});

async function rawClient() {
  const client = new Client({ name: 'bench-raw', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER, 'stdio'], stderr: 'pipe' }));
  await client.listTools(); // the supervisor lists tools on start; do the same work here
  return client;
}

/** Runs `calls` sequential calls through each caller concurrently; per-call wall time and CPU. */
async function measure(callers, calls) {
  // Each sample after a young-generation collection: none pays for another's garbage. (A full
  // one would also discard optimised code that referred to what it freed, and each sample
  // would pay for optimising again.)
  globalThis.gc?.({ type: 'minor' });
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(callers.map(async (call) => {
    for (let i = 0; i < calls; i++) await call();
  }));
  const wallNs = Number(process.hrtime.bigint() - start);
  const { user, system } = process.cpuUsage(cpu);
  const total = calls * callers.length;
  return { latencyUs: wallNs / 1000 / calls, cpuUs: (user + system) / total };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Turns through the subjects in short batches, many times, and compares medians: on a
 * shared machine, load comes and goes within seconds, and fine interleaving spreads it
 * evenly over all of them. `subjects[0]` is the baseline.
 */
async function compare(label, subjects) {
  for (const { callers } of subjects) await measure(callers, 100); // warm-up: JIT, zod schemas, output validators
  const samples = subjects.map(() => ({ latencyUs: [], cpuUs: [] }));
  for (let batch = 0; batch < BATCHES; batch++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (k + batch) % subjects.length;
      const m = await measure(subjects[i].callers, BATCH_CALLS);
      samples[i].latencyUs.push(m.latencyUs);
      samples[i].cpuUs.push(m.cpuUs);
    }
  }
  const load = os.loadavg()[0];
  const rows = [];
  for (const metric of ['latencyUs', 'cpuUs']) {
    const base = median(samples[0][metric]);
    subjects.forEach(({ name }, i) => {
      const value = median(samples[i][metric]);
      rows.push({ label: `${label}: ${metric === 'cpuUs' ? 'client CPU' : 'latency'} per call (µs), ${name}`, value, ratio: value / base, load, metric, name, baseline: i === 0 });
    });
  }
  return rows;
}

async function connectTimes(stateDir) {
  const raw = [];
  const sup = [];
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    const clients = await Promise.all(Array.from({ length: FLEET }, rawClient));
    raw.push(performance.now() - t);
    await Promise.all(clients.map((c) => c.close()));

    const supervisor = new Supervisor(Array.from({ length: FLEET }, (_, i) => def(`s${i}`)), { stateDir });
    t = performance.now();
    await supervisor.start();
    sup.push(performance.now() - t);
    await supervisor.shutdown();
  }
  return [`connect ${FLEET} servers in parallel (ms)`, median(raw), median(sup), median(sup) / median(raw)];
}

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-'));
const rows = [];
const clients = [];
const supervisor = new Supervisor(Array.from({ length: FLEET }, (_, i) => def(`s${i}`)), { stateDir });
try {
  for (let i = 0; i < FLEET; i++) clients.push(await rawClient());
  await supervisor.start();
  const names = supervisor.names();
  // The SDK Client of orch's connection to each server (private fields, read here only).
  const sdkOf = (name) => supervisor.server(name).conn.client;
  const runtime = { project: { tools: new Map() }, stateDir, signal: new AbortController().signal, servers: supervisor, interceptors: defaultInterceptors(stateDir, []) };
  const subjects = (n) => [
    { name: 'raw SDK, same servers', callers: names.slice(0, n).map((s) => () => sdkOf(s).callTool({ name: 'echo', arguments: ARGS })) },
    { name: 'orch supervisor', callers: names.slice(0, n).map((s) => () => supervisor.callTool(s, 'echo', ARGS)) },
    { name: 'orch agent runtime', callers: names.slice(0, n).map((s) => () => callTool({ kind: 'server', name: `${s}.echo` }, ARGS, runtime)) },
    { name: 'raw SDK, own servers', callers: clients.slice(0, n).map((c) => () => c.callTool({ name: 'echo', arguments: ARGS })) },
  ];
  rows.push(...(await compare('sequential, 1 server', subjects(1))));
  rows.push(...(await compare(`concurrent, ${FLEET} servers`, subjects(FLEET))));
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await supervisor.shutdown();
}
const connect = await connectTimes(stateDir);
rmSync(stateDir, { recursive: true, force: true });

const TARGET = 1.1;
const fmt = (n) => n.toFixed(1).padStart(9);
console.log(
  `orch vs raw MCP SDK Client — server-everything "echo", medians of ${BATCHES} interleaved batches of ${BATCH_CALLS} calls, each after a GC; ratios to the raw SDK on the same servers`,
);
console.log(`node ${process.version}, ${os.cpus().length} CPUs\n`);
console.log(`${'measure'.padEnd(76)}${'value'.padStart(9)}    ratio  load`);
for (const { label, value, ratio, load, baseline } of rows) {
  const above = ratio > TARGET && !baseline ? '  (above the 1.10× target)' : '';
  console.log(`${label.padEnd(76)}${fmt(value)}    ${baseline ? '   — ' : `${ratio.toFixed(2)}×`}  ${load.toFixed(2)}${above}`);
}
const [label, raw, sup, ratio] = connect;
console.log(`${label.padEnd(76)}${fmt(sup)}    ${ratio.toFixed(2)}×  (raw SDK ${raw.toFixed(1)} ms)`);
// The figures the execution-core issue sets a target for, on lines of their own.
for (const name of ['orch supervisor', 'orch agent runtime']) {
  const row = rows.find((r) => r.metric === 'cpuUs' && r.name === name && r.label.startsWith(`concurrent, ${FLEET}`));
  console.log(`${name === 'orch supervisor' ? '\n' : ''}mcp client CPU, ${FLEET} servers concurrent, ${name}: ${row.ratio.toFixed(2)}x raw SDK (target <= ${TARGET.toFixed(2)}x; load average ${row.load.toFixed(2)} on ${os.cpus().length} CPUs)`);
}
