import { createServer, type Server } from 'node:http';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { startStubProcess, type StubProcess } from '../helpers/llm-stub-process.js';
import { ORCHESTRATION_FIXTURE, teamYaml } from '../helpers/orchestration.js';
import { spawn } from 'node:child_process';

// Traces of runs through the built bin, sent to an OTLP/HTTP receiver on 127.0.0.1 that keeps what it gets.

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, string | number | boolean>;
  status?: { code?: number; message?: string };
  resource: Record<string, string | number | boolean>;
}

function attributes(list: { key: string; value: OtlpValue }[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue ?? '';
  }
  return out;
}

/** An OTLP/HTTP (JSON) traces receiver: every span exported to it, flattened. */
async function receiver(): Promise<{ url: string; spans: Span[]; close: () => Promise<void> }> {
  const spans: Span[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const doc = JSON.parse(body) as {
        resourceSpans: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: (Omit<Span, 'attributes' | 'resource'> & { attributes?: { key: string; value: OtlpValue }[] })[] }[] }[];
      };
      for (const rs of doc.resourceSpans) {
        const resource = attributes(rs.resource?.attributes);
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, attributes: attributes(s.attributes), resource, parentSpanId: s.parentSpanId || undefined });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const SECRET = 'tr4ce-s3cret-value-9876';
const MODULE_LOG = fileURLToPath(new URL('../fixtures/module-log.mjs', import.meta.url));
const GANTZ = `name: traced
tools:
  lookup:
    description: Looks something up
    parameters: { what: { type: string, required: true }, api_token: { type: string } }
    script: { shell: "echo found {{what}}" }
`;
const TEAM = `team: { name: traced-team }
agents:
  - { role: worker, tools: [lookup] }
  - { role: isolated, isolation: process, tools: [lookup] }
  - role: orchestrator
    model: claude-sonnet-4-5
    tools: [dispatch_to_agent]
  - role: helper
    model: claude-sonnet-4-5
    tools: [lookup]
workflows:
  traced:
    inputs:
      token: { type: string }
    steps:
      - { id: fetch, agent: worker, action: lookup, with: { what: config, api_token: "\${{ inputs.token }}" } }
      - { id: apart, agent: isolated, action: lookup, with: { what: elsewhere } }
      - { id: plan, agent: orchestrator, action: make_a_plan }
  gated:
    - { id: first, agent: worker, action: lookup, with: { what: one }, gate: { type: approval_required, when: before } }
    - { id: second, agent: worker, action: lookup, with: { what: two } }
`;
const as = (role: string) => `You are the \`${role}\` agent`;

let dir = '';
let stub: StubProcess | undefined;
let otlp: Awaited<ReturnType<typeof receiver>> | undefined;
afterEach(async () => {
  stub?.stop();
  stub = undefined;
  await otlp?.close();
  otlp = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built bin without blocking the test's event loop: the receiver answers in this process. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The stub scripted for `runs` runs of the workflow. */
async function setup(runs = 1): Promise<NodeJS.ProcessEnv> {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-trace-e2e-'));
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  writeFileSync(path.join(dir, 'agent-team.yaml'), TEAM);
  const replies = [
    { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'helper', task: 'look up the plan' } }] },
    { when: as('helper'), toolCalls: [{ name: 'lookup', input: { what: 'plan' } }] },
    { when: as('helper'), text: 'the plan is found' },
    { when: as('orchestrator'), text: 'plan ready' },
  ];
  stub = await startStubProcess(dir, Array.from({ length: runs }, () => replies).flat());
  return { ANTHROPIC_API_KEY: 'sk-ant-trace-e2e-key', ANTHROPIC_BASE_URL: stub.anthropicBase, MY_API_TOKEN: SECRET };
}

const one = (spans: Span[], name: string, where: (s: Span) => boolean = () => true): Span => {
  const found = spans.filter((s) => s.name === name && where(s));
  expect(found.map((s) => s.name), `spans named ${name}: ${spans.map((s) => s.name).join(', ')}`).toEqual([name]);
  return found[0] as Span;
};

describe('OpenTelemetry traces', () => {
  it('a workflow run is one trace: run → steps → agents → model and tool calls, a delegated run and a process worker under their callers', async () => {
    const env = await setup();
    otlp = await receiver();
    const r = await run(['run', 'traced', '--input', JSON.stringify({ token: SECRET })], {
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'traced-service',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
    });
    expect(r.code, r.stderr).toBe(0);
    const spans = otlp.spans;
    const runId = readdirSync(path.join(dir, '.orch', 'runs'))[0] ?? '';

    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(new Set(spans.map((s) => s.resource['service.name']))).toEqual(new Set(['traced-service']));
    const root = one(spans, 'run traced');
    expect(root.parentSpanId).toBeUndefined();
    expect(root.attributes).toMatchObject({ 'orch.run.id': runId, 'orch.run.status': 'succeeded', 'orch.workflow': 'traced' });
    const childOf = (parent: Span) => (s: Span) => s.parentSpanId === parent.spanId;

    // A tool step.
    const fetch = one(spans, 'step fetch', childOf(root));
    expect(fetch.attributes).toMatchObject({ 'orch.agent.type': 'worker', 'orch.step.attempt': 1, 'orch.step.status': 'succeeded' });
    expect(String(fetch.attributes['orch.agent.instance'])).toMatch(/^worker-\d+$/);
    const worker = one(spans, 'invoke_agent worker', childOf(fetch));
    const lookup = one(spans, 'execute_tool lookup', childOf(worker));
    expect(lookup.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup', 'orch.tool.kind': 'script', 'orch.outcome': 'ok', 'orch.step.id': 'fetch' });
    // Arguments only with content capture on, and redacted.
    expect(String(lookup.attributes['orch.tool.arguments'])).toContain('"what":"config"');

    // A step on a process worker: the trace context crossed the IPC channel.
    const apart = one(spans, 'step apart', childOf(root));
    const isolated = one(spans, 'invoke_agent isolated', childOf(apart));
    one(spans, 'execute_tool lookup', childOf(isolated));

    // An LLM step that delegates.
    const plan = one(spans, 'step plan', childOf(root));
    const orchestrator = one(spans, 'invoke_agent orchestrator', childOf(plan));
    const chats = spans.filter(childOf(orchestrator)).filter((s) => s.name === 'chat claude-sonnet-4-5');
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(chat.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-5' });
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
      expect(typeof chat.attributes['orch.cost_usd']).toBe('number');
    }
    const dispatch = one(spans, 'execute_tool dispatch_to_agent', childOf(orchestrator));
    expect(dispatch.attributes).toMatchObject({ 'orch.delegate.agent': 'helper' });
    const helper = one(spans, 'invoke_agent helper', childOf(dispatch));
    expect(helper.attributes).toMatchObject({ 'orch.delegated.by': 'orchestrator' });
    expect(spans.filter(childOf(helper)).map((s) => s.name).sort()).toEqual(['chat claude-sonnet-4-5', 'chat claude-sonnet-4-5', 'execute_tool lookup']);

    // No secret in any attribute, status or resource: not the key, not the token given as input.
    const text = JSON.stringify(spans);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('sk-ant-trace-e2e-key');
    expect(String(lookup.attributes['orch.tool.arguments'])).toContain('"api_token":"');

    // Every audit line names the trace and its tool call's span.
    const audit = readFileSync(path.join(dir, '.orch', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.length).toBeGreaterThanOrEqual(3);
    const toolSpans = new Set(spans.filter((s) => s.name.startsWith('execute_tool ')).map((s) => s.spanId));
    for (const line of audit) {
      expect(line).toMatchObject({ run: runId, trace_id: root.traceId });
      expect(toolSpans.has(String(line.span_id))).toBe(true);
      expect(line.agent).toBeDefined();
      expect(line.instance).toBeDefined();
    }
  });

  it('a run paused at a gate and resumed in another process is still one trace, the gate decision on its step', async () => {
    const env = await setup();
    otlp = await receiver();
    const traced = { ...env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces` };
    expect((await run(['run', 'gated'], traced)).code).toBe(3);
    const runId = readdirSync(path.join(dir, '.orch', 'runs'))[0] ?? '';
    expect((await run(['approve', runId, 'first'], {})).code).toBe(0);
    const resumed = await run(['resume', runId], traced);
    expect(resumed.code, resumed.stderr).toBe(0);
    const spans = otlp.spans;
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const runs = spans.filter((s) => s.name === 'run gated');
    expect(runs).toHaveLength(2);
    const [started, again] = runs[0]?.parentSpanId === undefined ? [runs[0], runs[1]] : [runs[1], runs[0]];
    expect(started?.attributes['orch.run.status']).toBe('paused');
    expect(again?.parentSpanId).toBe(started?.spanId);
    expect(again?.attributes).toMatchObject({ 'orch.run.resumed': true, 'orch.run.status': 'succeeded' });
    const firstSteps = spans.filter((s) => s.name === 'step first');
    expect(firstSteps.map((s) => s.attributes['orch.gate.decision']).sort()).toEqual(['approved', 'waiting']);
    expect(firstSteps.find((s) => s.attributes['orch.gate.decision'] === 'approved')?.attributes).toMatchObject({ 'orch.gate.method': 'command' });
    one(spans, 'step second', (s) => s.parentSpanId === again?.spanId);
  });

  it('an orchestrate task is one trace: the tool call, a span per subtask, the agent and its tool call under each', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-trace-e2e-'));
    cpSync(ORCHESTRATION_FIXTURE, dir, { recursive: true });
    writeFileSync(path.join(dir, 'agent-team.yaml'), teamYaml());
    otlp = await receiver();
    const task = { subtasks: [{ id: 'one', tool: 'echo', input: { value: 1 } }, { id: 'two', tool: 'pid', agent_type: 'isolated', depends_on: ['one'] }] };
    const r = await run(['run', 'orchestrate', '--task', JSON.stringify(task), '--json', '--otel', otlp.url], {});
    expect(r.code, r.stderr).toBe(0);
    const taskId = (JSON.parse(r.stdout) as { task_id: string }).task_id;
    const spans = otlp.spans;
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const root = one(spans, 'execute_tool orchestrate');
    expect(root.parentSpanId).toBeUndefined();
    for (const [id, agent, tool] of [['one', 'worker', 'echo'], ['two', 'isolated', 'pid']] as const) {
      const subtask = one(spans, `subtask ${id}`, (s) => s.parentSpanId === root.spanId);
      expect(subtask.attributes).toMatchObject({ 'orch.task.id': taskId, 'orch.agent.type': agent, 'orch.outcome': 'ok' });
      const performer = one(spans, `invoke_agent ${agent}`, (s) => s.parentSpanId === subtask.spanId);
      one(spans, `execute_tool ${tool}`, (s) => s.parentSpanId === performer.spanId);
    }
  });

  it('a collector that is down does not fail the run: a warning, and the run succeeds', async () => {
    const env = await setup();
    // A port nothing listens on any more.
    const gone = await receiver();
    await gone.close();
    const r = await run(['run', 'traced', '--otel', gone.url], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`cannot send traces to ${gone.url}/v1/traces`);
    expect(r.stdout).toContain('traced succeeded');
  });

  it('with tracing off, no OpenTelemetry SDK module is loaded; with it on, the SDK is', async () => {
    await setup();
    const loaded = (extra: string[]): Promise<string[]> => {
      const log = path.join(dir, `modules-${extra.length}.log`);
      return new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', MODULE_LOG, BIN, ...extra, 'run', 'lookup', '--what', 'x'], {
          cwd: dir,
          env: { ...process.env, MODULE_LOG: log, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' },
          stdio: 'ignore',
        });
        child.on('close', () => resolve(existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []));
      });
    };
    const sdk = (urls: string[]) => urls.filter((u) => /@opentelemetry\/(sdk-|exporter-|resources|otlp-)/.test(u));
    expect(sdk(await loaded([]))).toEqual([]);
    otlp = await receiver();
    expect(sdk(await loaded(['--otel', otlp.url])).some((u) => u.includes('@opentelemetry/sdk-trace-node'))).toBe(true);
  });

  it('refuses an --otel that is not an http(s) URL, with exit code 2', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-trace-e2e-'));
    writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
    const r = await run(['--otel', 'collector:4318', 'run', 'lookup', '--what', 'x'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--otel collector:4318 is not an http(s) URL');
  });
});

describe('usage per agent type', () => {
  it('orch status totals the recent runs\' usage and cost per agent type; orch report shows the run\'s own, delegated runs counted for their agent', async () => {
    const env = await setup(2);
    const r = await run(['run', 'traced'], env);
    expect(r.code, r.stderr).toBe(0);
    const runId = readdirSync(path.join(dir, '.orch', 'runs'))[0] ?? '';
    const status = JSON.parse((await run(['status', '--json'], {})).stdout) as {
      usage_by_agent: { agent_type: string; runs: number; input_tokens: number; output_tokens: number; cost_usd?: number }[];
    };
    const byType = new Map(status.usage_by_agent.map((a) => [a.agent_type, a]));
    expect([...byType.keys()].sort()).toEqual(['helper', 'orchestrator']);
    const orchestrator = byType.get('orchestrator');
    const helper = byType.get('helper');
    // Each made two model calls of the stub's usage; the orchestrator's step does not count its helper's calls as its own.
    expect(orchestrator).toMatchObject({ runs: 1, input_tokens: helper?.input_tokens, output_tokens: helper?.output_tokens });
    expect(orchestrator?.input_tokens).toBeGreaterThan(0);
    expect(typeof orchestrator?.cost_usd).toBe('number');

    const report = JSON.parse((await run(['report', runId, '--json'], {})).stdout) as { by_agent: Record<string, { input_tokens: number }>; usage: { input_tokens: number } };
    expect(Object.keys(report.by_agent).sort()).toEqual(['helper', 'orchestrator']);
    expect((report.by_agent.helper?.input_tokens ?? 0) + (report.by_agent.orchestrator?.input_tokens ?? 0)).toBe(report.usage.input_tokens);

    // A second run adds to the totals.
    expect((await run(['run', 'traced'], env)).code).toBe(0);
    const text = (await run(['status'], {})).stdout;
    expect(text).toMatch(/usage by agent type \(the 2 recent runs\):\n\s+(orchestrator|helper)\s+[\d,]+ in \/ [\d,]+ out tokens, \$[\d.]+\s+in 2 runs/);
  });
});
