// The queue engine on a real redis-server, in the same run:
// - throughput: tasks per second of an orchestrate task of 200 subtasks (a no-op module tool)
//   through orch's queue engine with 2 `orch worker` processes of concurrency 4, against raw
//   BullMQ with 2 worker processes of concurrency 4 running the same no-op (target ≥ 0.8×),
//   with the CPU per task of each side's submitter, workers and redis-server (from /proc,
//   in 10 ms clock ticks, so coarse per round): where each side's time goes; then the same
//   with a tool that waits 5 ms (as one calling a service does), on both sides;
// - take-over: from kill -9 of the worker running a job to the job's start on another
//   worker, with --stall-interval 1s.
// Usage: npm run bench queue   (needs Debian's redis-server; BENCH_ROUNDS changes the sample size,
// 31 rounds of each side by default: a 2-core machine shared with others moves one pair of
// rounds from about 0.5× to 1.0×, and the median of 9 pairs by some 0.1 from run to run, where
// that of 31 stays within a few hundredths; the spread of the pairs is printed beside it)
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { loadProject, orchestrate } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'orch.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const TASKS = 200;
const WORKERS = 2;
const CONCURRENCY = 4;

if (spawnSync('redis-server', ['--version']).status !== 0) {
  console.log('skipped: redis-server is not installed (apt-get install redis-server)');
  process.exit(0);
}

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-queue-'));
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => createInterface({ input: redis.stdout }).on('line', (l) => l.includes('Ready to accept') && resolve()));
redis.stdout.resume();
const url = `redis://127.0.0.1:${port}/0`;
process.env.ORCH_ENGINE = url;

mkdirSync(path.join(dir, 'handlers'));
writeFileSync(path.join(dir, 'handlers', 'noop.mjs'), 'export function run({ n }) { return n; }\nexport function wait({ ms }) { return new Promise((r) => setTimeout(() => r(ms), ms)); }\n');
writeFileSync(
  path.join(dir, 'gantz.yaml'),
  `name: queue-bench\ntools:\n  noop:\n    description: Does nothing\n    parameters: { n: { type: number, required: true } }\n    handler: noop.run\n  wait:\n    description: Waits\n    parameters: { ms: { type: number, required: true } }\n    handler: noop.wait\n  slow:\n    description: Sleeps\n    script: { shell: "sleep 30" }\n`,
);
writeFileSync(path.join(dir, 'agent-team.yaml'), `team: { name: qb }\nagents:\n  - { role: worker, count: ${WORKERS * CONCURRENCY}, tools: [noop, wait, slow] }\n`);

const children = new Set();
// However the bench ends, nothing it started runs on.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  redis.kill('SIGKILL');
});
// Stopped by a signal, it exits through that hook too (Node's default would skip it).
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
function startWorker(args = []) {
  const child = spawn(process.execPath, [BIN, 'worker', '--concurrency', String(CONCURRENCY), '--stall-interval', '1s', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((resolve) => lines.on('line', (l) => l.includes(' takes ') && resolve()));
  return { child, lines, ready };
}

// The workers of the throughput rounds log to files, as a deployed worker's log goes to its
// collector: a pipe read by this (busy) process would hold them up on every line they print.
// They run as `orch worker` does by default (a 5 s stall interval), as the raw workers run
// with BullMQ's defaults; only the take-over rounds shorten it.
let logs = 0;
function startLoggingWorker() {
  const log = path.join(dir, `worker-${logs++}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, [BIN, 'worker', '--concurrency', String(CONCURRENCY)], { cwd: dir, stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  children.add(child);
  let exited;
  child.once('exit', (code) => (exited = code));
  const ready = (async () => {
    while (!readFileSync(log, 'utf8').includes(' takes ')) {
      if (exited !== undefined) throw new Error(`orch worker exited (${exited}) before it was ready: ${readFileSync(log, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { child, ready };
}

// Raw BullMQ: the same queue layout, worker processes of the same concurrency, the same no-op.
const rawWorker = path.join(dir, 'raw-worker.mjs');
writeFileSync(
  rawWorker,
  `import { Worker } from ${JSON.stringify(import.meta.resolve('bullmq'))};\nconst w = new Worker('raw', async (job) => job.data.ms === undefined ? job.data.n : new Promise((r) => setTimeout(() => r(job.data.ms), job.data.ms)), { connection: { host: '127.0.0.1', port: ${port}, maxRetriesPerRequest: null }, concurrency: ${CONCURRENCY}, prefix: 'raw' });\nw.on('error', () => {});\nawait w.waitUntilReady();\nconsole.log('ready');\nprocess.on('SIGTERM', async () => { await w.close(); process.exit(0); });\n`,
);
const rawChildren = [];
const raws = Array.from({ length: WORKERS }, () => {
  const child = spawn(process.execPath, [rawWorker], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  rawChildren.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`a raw BullMQ worker exited (${code}) before it was ready`)));
  });
});
await Promise.all(raws);
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
const queue = new Queue('raw', { connection, prefix: 'raw' });
const events = new QueueEvents('raw', { connection, prefix: 'raw' });
queue.on('error', () => {});
queue.setMaxListeners(0);
events.on('error', () => {});
await events.waitUntilReady();

const workers = Array.from({ length: WORKERS }, () => startLoggingWorker());
await Promise.all(workers.map((w) => w.ready));
const { project } = await loadProject({ dir });

let round = 0;
/** The tool the rounds run: the no-op, or one that waits `ms`. */
let waitMs;
async function rawRound() {
  const r = round++;
  const t0 = performance.now();
  const data = (i) => (waitMs === undefined ? { n: i } : { ms: waitMs });
  const specs = Array.from({ length: TASKS }, (_, i) => ({ name: 'noop', data: data(i), opts: { jobId: `r${r}-${i}`, removeOnComplete: { age: 3600 } } }));
  const jobs = process.env.RAW_SINGLE ? await Promise.all(specs.map((s) => queue.add(s.name, s.data, s.opts))) : await queue.addBulk(specs);
  await Promise.all(jobs.map((j) => j.waitUntilFinished(events)));
  return TASKS / ((performance.now() - t0) / 1000);
}
async function orchRound() {
  const t0 = performance.now();
  const subtask = (i) => (waitMs === undefined ? { id: `s${i}`, tool: 'noop', input: { n: i } } : { id: `s${i}`, tool: 'wait', input: { ms: waitMs } });
  const report = await orchestrate(project, { subtasks: Array.from({ length: TASKS }, (_, i) => subtask(i)) });
  if (report.status !== 'completed') throw new Error(`orchestrate ${report.status}`);
  return TASKS / ((performance.now() - t0) / 1000);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// CPU of a process so far, in µs, from /proc (user + system; clock ticks of 10 ms).
const cpuOf = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
/** A round, with the CPU per task it cost: this process (the submitter), the workers and redis-server. */
async function measured(round, workerPids) {
  // As in every bench, the sample starts after a young-generation collection of this process.
  globalThis.gc?.({ type: 'minor' });
  const own = process.cpuUsage();
  const before = workerPids.map(cpuOf);
  const redisBefore = cpuOf(redis.pid);
  const rate = await round();
  const sub = process.cpuUsage(own);
  const work = workerPids.reduce((sum, pid, i) => sum + cpuOf(pid) - before[i], 0);
  return { rate, submitter: (sub.user + sub.system) / TASKS, workers: work / TASKS, redis: (cpuOf(redis.pid) - redisBefore) / TASKS };
}
const rawPids = rawChildren.map((c) => c.pid);
const orchPids = workers.map((w) => w.child.pid);
/** Rounds of each side, interleaved: the raw rounds and orch's. */
async function compare() {
  await rawRound();
  await orchRound();
  const raw = [];
  const ours = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which goes first, so neither always pays for the other's garbage.
    if (i % 2 === 0) {
      raw.push(await measured(rawRound, rawPids));
      ours.push(await measured(orchRound, orchPids));
    } else {
      ours.push(await measured(orchRound, orchPids));
      raw.push(await measured(rawRound, rawPids));
    }
  }
  // Each orch round ran next to a raw one, on the machine as it was then: the ratio is the
  // median of the pairs' ratios, which the machine's drift from round to round moves far
  // less than it moves each side's median, and their spread is shown.
  const pairs = ours.map((o, i) => o.rate / raw[i].rate).sort((a, b) => a - b);
  return { raw, ours, pairs, ratio: median(pairs) };
}
const noop = await compare();
waitMs = 5;
const waiting = await compare();
const med = (rounds, key) => median(rounds.map((r) => r[key]));
// CPU is counted in 10 ms ticks, 50 µs per task in one round of 200: it is averaged over all
// rounds (a tick per 1,000 tasks in 5 rounds), not taken as a median of coarse values.
const mean = (rounds, key) => rounds.reduce((sum, r) => sum + r[key], 0) / rounds.length;
const cpu = (rounds) => mean(rounds, 'submitter') + mean(rounds, 'workers') + mean(rounds, 'redis');
const cpuRow = (rounds) => `${cpu(rounds).toFixed(0)} µs of CPU per task (submitter ${mean(rounds, 'submitter').toFixed(0)}, workers ${mean(rounds, 'workers').toFixed(0)}, redis ${mean(rounds, 'redis').toFixed(0)})`;
const spread = ({ pairs }) => `the median of ${pairs.length} pairs of adjacent rounds (${pairs[0].toFixed(2)}–${pairs.at(-1).toFixed(2)}×)`;
{
  const { raw, ours, ratio } = noop;
  console.log(`throughput (${TASKS} no-op tasks, ${WORKERS} workers × ${CONCURRENCY}, median of ${ROUNDS}; load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs):`);
  console.log(`  raw BullMQ          ${med(raw, 'rate').toFixed(0)} tasks/s, ${cpuRow(raw)}`);
  console.log(`  orch queue engine   ${med(ours, 'rate').toFixed(0)} tasks/s, ${cpuRow(ours)}`);
  console.log(`  CPU per task        raw / orch ${(cpu(raw) / cpu(ours)).toFixed(2)}× (where each side's time goes)`);
  console.log(`  ratio               ${ratio.toFixed(2)}× (target ≥ 0.80×) ${ratio >= 0.8 ? 'ok' : 'BELOW TARGET'}: ${spread(noop)}`);
}
{
  const { raw, ours, ratio } = waiting;
  console.log(`with a tool that waits ${waitMs} ms (${WORKERS * CONCURRENCY} slots: at most ${((WORKERS * CONCURRENCY * 1000) / waitMs).toFixed(0)} tasks/s):`);
  console.log(`  raw BullMQ          ${med(raw, 'rate').toFixed(0)} tasks/s, ${cpuRow(raw)}`);
  console.log(`  orch queue engine   ${med(ours, 'rate').toFixed(0)} tasks/s, ${cpuRow(ours)}`);
  console.log(`  ratio               ${ratio.toFixed(2)}×: ${spread(waiting)}`);
}

// Take-over after kill -9: a slow job starts on the first worker, which is killed.
for (const w of workers) w.child.kill('SIGTERM');
await Promise.all(workers.map((w) => new Promise((r) => w.child.once('exit', r))));
const takeovers = [];
for (let i = 0; i < 3; i++) {
  const a = startWorker();
  await a.ready;
  const started = new Promise((resolve) => a.lines.on('line', (l) => l.startsWith('started') && resolve()));
  const task = orchestrate(project, { subtasks: [{ id: `slow${i}`, tool: 'slow', input: {} }] }).catch(() => undefined);
  await started;
  const b = startWorker();
  await b.ready;
  const again = new Promise((resolve) => b.lines.on('line', (l) => l.includes('execution 2') && resolve(performance.now())));
  const killedAt = performance.now();
  a.child.kill('SIGKILL');
  takeovers.push((await again) - killedAt);
  b.child.kill('SIGKILL');
  void task;
}
console.log(`take-over after kill -9 (--stall-interval 1s): median ${median(takeovers).toFixed(0)} ms (${takeovers.map((t) => t.toFixed(0)).join(', ')})`);

for (const c of children) c.kill('SIGKILL');
await queue.close();
await events.close();
redis.kill('SIGTERM');
await new Promise((r) => redis.once('exit', r));
if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
process.exit(0);
