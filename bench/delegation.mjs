// Multi-agent overhead on the stub provider (a separate process speaking the Anthropic
// Messages API), measured in the same run:
// - per delegated call: an orchestrator that hands one task to a specialist with
//   dispatch_to_agent (3 model turns: dispatch, the specialist's answer, the synthesis),
//   against a bare AI SDK loop whose tool makes the same second generateText call directly;
// - orchestrate throughput with an LLM plan: the planner answers a plan of 100 subtasks of
//   a no-op module tool, which then run on a pool of 8 workers.
// Usage: npm run bench delegation   (BENCH_ROUNDS changes the sample size)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createAnthropic } from '@ai-sdk/anthropic';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { loadProject, orchestrate, startRun } from '../dist/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const RUNS = 3;
const PLAN_SIZE = 100;
const MODEL = 'claude-sonnet-4-5';

const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-team-'));
mkdirSync(path.join(dir, 'handlers'));
writeFileSync(path.join(dir, 'handlers', 'noop.mjs'), 'export function run({ n }) { return n; }\n');
writeFileSync(
  path.join(dir, 'gantz.yaml'),
  `name: team-bench\ntools:\n  noop:\n    description: Does nothing\n    parameters: { n: { type: number, required: true } }\n    handler: noop.run\n  orchestrate:\n    description: Orchestrate\n    parameters: { task: { type: object, required: true } }\n    handler: orchestration.orchestrate\n`,
);
writeFileSync(
  path.join(dir, 'agent-team.yaml'),
  `team: { name: bench }\nagents:\n  - { role: orchestrator, model: ${MODEL}, tools: [dispatch_to_agent] }\n  - { role: specialist, model: ${MODEL}, tools: [] }\n  - { role: worker, count: 8, tools: [noop] }\nworkflows:\n  handle:\n    - { id: handle, agent: orchestrator, action: handle_request }\n`,
);

const stub = spawn(process.execPath, [path.join(root, 'test/fixtures/llm-stub-server.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
const { url, anthropicBase } = JSON.parse(await new Promise((resolve) => createInterface({ input: stub.stdout }).once('line', resolve)));
process.env.ANTHROPIC_API_KEY = 'sk-bench';
process.env.ANTHROPIC_BASE_URL = anthropicBase;
process.env.ORCH_STATE_DIR = path.join(dir, '.orch');
const queue = (replies) => fetch(`${url}/_stub/replies`, { method: 'POST', body: JSON.stringify(replies) });

const DELEGATION = [
  { toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'specialist', task: 'look into it' } }] },
  { text: 'looked into it' },
  { text: 'done' },
];
const { project } = await loadProject({ dir });
async function orchDelegation() {
  const r = await startRun(project, 'handle');
  if (r.outcome !== 'succeeded') throw new Error(`run ${r.outcome}`);
}
const provider = createAnthropic({ baseURL: `${anthropicBase}/v1`, apiKey: 'sk-bench' });
async function bareDelegation() {
  const dispatch = tool({
    description: 'Hands a task to another agent',
    inputSchema: jsonSchema({ type: 'object', properties: { agent: { type: 'string' }, task: {} }, required: ['agent', 'task'] }),
    execute: async ({ task }) => (await generateText({ model: provider(MODEL), prompt: String(task) })).text,
  });
  await generateText({ model: provider(MODEL), prompt: 'Action: handle_request', tools: { dispatch_to_agent: dispatch }, stopWhen: stepCountIs(3) });
}

async function sample(fn, replies) {
  await queue(Array.from({ length: RUNS }, () => replies).flat());
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < RUNS; i++) await fn();
  const wall = Number(process.hrtime.bigint() - start) / 1000 / RUNS;
  const { user, system } = process.cpuUsage(cpu);
  return { wall, cpu: (user + system) / RUNS };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const plan = { text: JSON.stringify({ subtasks: Array.from({ length: PLAN_SIZE }, (_, i) => ({ id: `s${i}`, tool: 'noop', agent_type: 'worker', input: { n: i } })) }) };
async function planned() {
  await queue([plan]);
  const start = process.hrtime.bigint();
  const report = await orchestrate(project, { type: 'analysis' });
  if (report.status !== 'completed') throw new Error(`orchestrate ${report.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

try {
  for (let w = 0; w < 2; w++) await sample(orchDelegation, DELEGATION), await sample(bareDelegation, DELEGATION);
  const o = { wall: [], cpu: [] };
  const b = { wall: [], cpu: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [fn, into] of r % 2 === 0 ? [[orchDelegation, o], [bareDelegation, b]] : [[bareDelegation, b], [orchDelegation, o]]) {
      const m = await sample(fn, DELEGATION);
      into.wall.push(m.wall);
      into.cpu.push(m.cpu);
    }
  }
  await planned();
  const times = [];
  for (let r = 0; r < Math.max(3, Math.round(ROUNDS / 3)); r++) times.push(await planned());
  const ms = median(times);
  const fmt = (n) => (n / 1000).toFixed(2).padStart(9);
  console.log(`orch delegation vs a bare AI SDK loop whose tool makes the second generateText call — stub Anthropic API, medians of ${ROUNDS} alternating rounds of ${RUNS} runs`);
  console.log(`${'measure'.padEnd(44)}${'orch'.padStart(9)}${'bare'.padStart(9)}    ratio`);
  console.log(`${'wall time per delegated call (ms)'.padEnd(44)}${fmt(median(o.wall))}${fmt(median(b.wall))}    ${(median(o.wall) / median(b.wall)).toFixed(2)}×`);
  console.log(`${'client CPU per delegated call (ms)'.padEnd(44)}${fmt(median(o.cpu))}${fmt(median(b.cpu))}    ${(median(o.cpu) / median(b.cpu)).toFixed(2)}×`);
  console.log(`\norchestrate with an LLM plan of ${PLAN_SIZE} subtasks on 8 workers: ${ms.toFixed(0)} ms (${((PLAN_SIZE / ms) * 1000).toFixed(0)} subtasks/s, planning turn included)`);
  console.log(`delegation overhead: ${(median(o.wall) / median(b.wall)).toFixed(2)}x a direct second generateText call (a whole workflow run with its journal and leases, against two bare calls)`);
} finally {
  stub.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
