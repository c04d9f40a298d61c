// LLM agent overhead: orch's tool-use loop (a workflow step of an agent with a model, its
// turns and tool calls journalled and fsync'd) against a bare AI SDK `generateText` loop
// with the same tools, on the same stub provider (a separate process speaking the
// Anthropic Messages API), measured in the same run. Per turn is the slope between runs
// of 1 and of 9 model turns (each turn but the last calls a tool), so what a run costs
// once (its journal, leases, the step) is apart: that is printed as per-run overhead.
// The agent's tools look things up (`read_only: true`), so its turns are written at once
// and synced with the step's end; a second agent's tools change things, so each of its
// turns is synced before its call runs: that figure is printed too, against the same
// bare loop.
// Then the request bytes per turn for the same agent, offered its 3 allowed tools of the
// project's 30, against the bare loop given all 30.
// Target: per-turn wall time <= 1.05x the bare loop. Usage: npm run bench llm
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createAnthropic } from '@ai-sdk/anthropic';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { loadProject, startRun } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 24);
const RUNS = Number(process.env.BENCH_RUNS ?? 6); // runs per sample: a run's own cost (its syncs) varies more than its turns
const SHORT = 1; // turns of a short run: the answer at once
const LONG = 9; // turns of a long run: 8 that call a tool, then the answer
const TOOLS = 30;
const ALLOWED = 3;
const TARGET = 1.05;
const MODEL = 'claude-sonnet-4-5';

const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-llm-'));
const params = { item: { type: 'string', required: true, description: 'What to look up' }, depth: { type: 'number', description: 'How far to look' } };
const toolNames = Array.from({ length: TOOLS }, (_, i) => `lookup_${i}`);
mkdirSync(path.join(dir, 'handlers'));
const noteNames = Array.from({ length: ALLOWED }, (_, i) => `note_${i}`);
writeFileSync(path.join(dir, 'handlers', 'lookup.mjs'), 'export function find({ item }) { return `found ${item}`; }\n');
writeFileSync(
  path.join(dir, 'gantz.yaml'),
  `name: llm-bench\ntools:\n${toolNames.map((n, i) => `  ${n}:\n    description: Looks up an item in catalogue number ${i} and says what it found there\n    parameters: ${JSON.stringify(params)}\n    handler: lookup.find\n    read_only: true\n`).join('')}` +
    noteNames.map((n, i) => `  ${n}:\n    description: Notes an item in catalogue number ${i} and says what it noted there\n    parameters: ${JSON.stringify(params)}\n    handler: lookup.find\n`).join(''),
);
writeFileSync(
  path.join(dir, 'agent-team.yaml'),
  `team: { name: bench }\nagents:\n  - role: researcher\n    model: ${MODEL}\n    system_prompt: Look things up, then answer in one line.\n    tools: [${toolNames.slice(0, ALLOWED).join(', ')}]\n  - role: clerk\n    model: ${MODEL}\n    system_prompt: Look things up, then answer in one line.\n    tools: [${noteNames.join(', ')}]\nworkflows:\n  research:\n    - { id: research, agent: researcher, action: research, with: { topic: catalogue } }\n  notes:\n    - { id: research, agent: clerk, action: research, with: { topic: catalogue } }\n`,
);

const stub = spawn(process.execPath, [path.join(root, 'test/fixtures/llm-stub-server.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
const { url, anthropicBase } = JSON.parse(await new Promise((resolve) => createInterface({ input: stub.stdout }).once('line', resolve)));
process.env.ANTHROPIC_API_KEY = 'sk-bench';
process.env.ANTHROPIC_BASE_URL = anthropicBase;
process.env.ORCH_STATE_DIR = path.join(dir, '.orch');

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50); // a fast provider, for the second wall figure
const script = (turns, delayMs, names) =>
  Array.from({ length: turns }, (_, t) => ({
    ...(t < turns - 1 ? { toolCalls: [{ name: names[t % ALLOWED], input: { item: `thing ${t}` } }] } : { text: 'found everything' }),
    ...(delayMs > 0 && { delayMs }),
  }));
async function queue(runs, turns, delayMs = 0, names = toolNames) {
  await fetch(`${url}/_stub/replies`, { method: 'POST', body: JSON.stringify(Array.from({ length: runs }, () => script(turns, delayMs, names)).flat()) });
}
async function requestCount() {
  return (await (await fetch(`${url}/_stub/requests`)).json()).length;
}

const { project } = await loadProject({ dir });
async function orchRun(workflow = 'research') {
  const r = await startRun(project, workflow);
  if (r.outcome !== 'succeeded') throw new Error(`orch run ${r.outcome}: ${JSON.stringify([...r.state.steps.values()].map((s) => s.error))}`);
}

const notesRun = () => orchRun('notes');

const provider = createAnthropic({ baseURL: `${anthropicBase}/v1`, apiKey: 'sk-bench' });
const bareTools = (names) =>
  Object.fromEntries(
    names.map((n, i) => [
      n,
      tool({
        description: `Looks up an item in catalogue number ${i} and says what it found there`,
        inputSchema: jsonSchema({ type: 'object', properties: { item: { type: 'string', description: 'What to look up' }, depth: { type: 'number', description: 'How far to look' } }, required: ['item'] }),
        execute: async ({ item }) => `found ${item}`,
      }),
    ]),
  );
const allowedTools = bareTools(toolNames.slice(0, ALLOWED));
async function bareRun(tools = allowedTools) {
  await generateText({
    model: provider(MODEL),
    system: 'Look things up, then answer in one line.',
    prompt: 'Action: research\n\nInput:\n{\n  "topic": "catalogue"\n}',
    tools,
    stopWhen: stepCountIs(LONG + 1),
  });
}

/** Wall time and client CPU of one run of `turns` turns, in µs, averaged over RUNS runs. */
async function sample(fn, turns, delayMs = 0) {
  await queue(RUNS, turns, delayMs, fn === notesRun ? noteNames : toolNames);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < RUNS; i++) await fn();
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  return { cpu: (user + system) / RUNS, wall: wall / RUNS };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = load();
try {
  for (let w = 0; w < 2; w++) for (const turns of [SHORT, LONG]) await sample(orchRun, turns), await sample(bareRun, turns), await sample(notesRun, turns);
  // Per round and side: the per-turn slope and the short run, from samples taken side by side.
  const o = { cpu: [], wall: [], runCpu: [], runWall: [] };
  const b = { cpu: [], wall: [], runCpu: [], runWall: [] };
  const n = { cpu: [], wall: [], runCpu: [], runWall: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const sides = [[orchRun, o], [bareRun, b], [notesRun, n]];
    for (const [fn, into] of r % 2 === 0 ? sides : sides.reverse()) {
      const short = await sample(fn, SHORT);
      const long = await sample(fn, LONG);
      into.cpu.push((long.cpu - short.cpu) / (LONG - SHORT));
      into.wall.push((long.wall - short.wall) / (LONG - SHORT));
      into.runCpu.push(short.cpu);
      into.runWall.push(short.wall);
    }
  }
  // The same slope with the provider taking LATENCY_MS a turn: what a fast real provider adds to both sides.
  const slow = { orch: [], bare: [] };
  for (let r = 0; r < Math.max(4, 2 * Math.round(ROUNDS / 6)); r++) {
    for (const [fn, into] of r % 2 === 0 ? [[orchRun, slow.orch], [bareRun, slow.bare]] : [[bareRun, slow.bare], [orchRun, slow.orch]]) {
      const short = await sample(fn, SHORT, LATENCY_MS);
      const long = await sample(fn, LONG, LATENCY_MS);
      into.push((long.wall - short.wall) / (LONG - SHORT));
    }
  }
  // Request bytes per turn: one run each, orch's agent, then the bare loop given every tool.
  const bytesOf = async (fn) => {
    const before = await requestCount();
    await queue(1, LONG);
    await fn();
    const requests = (await (await fetch(`${url}/_stub/requests`)).json()).slice(before);
    return requests.reduce((n, q) => n + JSON.stringify(q.body).length, 0) / requests.length;
  };
  const orchBytes = await bytesOf(orchRun);
  const allBytes = await bytesOf(() => bareRun(bareTools(toolNames)));

  // How steady the machine was: the spread of the rounds' own ratios (each side's slope, taken side by side).
  const paired = o.wall.map((w, i) => w / b.wall[i]).sort((x, y) => x - y);
  const quartile = (q) => paired[Math.floor(q * (paired.length - 1))];
  const row = (label, x, y, unit) => `${label.padEnd(44)}${x.toFixed(0).padStart(9)}${y.toFixed(0).padStart(9)}    ${(x / y).toFixed(2)}×  ${unit}`;
  console.log(`orch LLM step vs bare AI SDK generateText loop — stub Anthropic API in another process, runs of ${SHORT} and ${LONG} turns, medians of ${ROUNDS} alternating rounds of ${RUNS} runs each; load average ${loadBefore} before, ${load()} after`);
  console.log(`${'measure'.padEnd(44)}${'orch'.padStart(9)}${'bare'.padStart(9)}    ratio`);
  console.log(row('wall time per model turn (µs)', median(o.wall), median(b.wall), `(target <= ${TARGET.toFixed(2)}×; rounds' ratios ${quartile(0.25).toFixed(2)}–${quartile(0.75).toFixed(2)} p25–p75)`));
  console.log(row('client CPU per model turn (µs)', median(o.cpu), median(b.cpu), ''));
  console.log(row('wall time per turn, tools that change things', median(n.wall), median(b.wall), '(each turn synced to disk before its call runs)'));
  console.log(row(`wall time per turn, provider taking ${LATENCY_MS} ms (µs)`, median(slow.orch), median(slow.bare), ''));
  console.log(row('wall time of a 1-turn run (µs)', median(o.runWall), median(b.runWall), '(the run: journal, leases, step)'));
  console.log(row('client CPU of a 1-turn run (µs)', median(o.runCpu), median(b.runCpu), ''));
  console.log(row(`request bytes per turn (${ALLOWED} of ${TOOLS} tools vs all)`, orchBytes, allBytes, ''));
  const ratio = median(o.wall) / median(b.wall);
  const slowRatio = median(slow.orch) / median(slow.bare);
  console.log(`\nllm per-turn overhead: ${ratio.toFixed(2)}x bare generateText with the stub answering at once, ${slowRatio.toFixed(2)}x with it taking ${LATENCY_MS} ms (target <= ${TARGET.toFixed(2)}x); request bytes per turn ${(orchBytes / allBytes).toFixed(2)}x the bare loop given all ${TOOLS} tools`);
} finally {
  stub.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
