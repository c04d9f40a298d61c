import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, breathe, orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { survivors } from '../unit/tools/process-helpers.js';
import { startStubProcess } from '../helpers/llm-stub-process.js';
import { until } from '../helpers/workflow-project.js';

const GANTZ = `
name: a2a-fixture
version: 3.1.4
tools:
  greet:
    description: Greets someone
    parameters:
      who: { type: string, required: true }
    script:
      shell: 'printf "hello %s" {{who}}'
  deploy:
    description: Deploys
    script:
      shell: 'printf "deployed"'
`;

const TEAM = `
team: { name: greeters, description: A team that greets and deploys }
agents:
  - role: greeter
    tools: [greet, deploy]
workflows:
  greeting:
    description: Greets someone
    inputs:
      who: { type: string, required: true, description: Whom to greet }
    steps:
      - { agent: greeter, action: greet, with: { who: "\${{ inputs.who }}" } }
  release:
    - { id: build, agent: greeter, action: greet, with: { who: build } }
    - { id: ship, agent: greeter, action: deploy, gate: { type: approval_required, when: before } }
`;

type Served = ResultPromise<{ reject: false; stdin: 'ignore'; buffer: false }>;

/** `orch serve --a2a 0` (and `extra` flags) in `dir`, and the URL it says it serves at. */
async function serveA2a(dir: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ serve: Served; at: string }> {
  const serve = execa(process.execPath, [BIN, '-C', dir, 'serve', '--a2a', '0', ...extra], { reject: false, stdin: 'ignore', buffer: false, env });
  const at = await new Promise<string>((resolve, reject) => {
    let seen = '';
    serve.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = /A2A agent .* at (http:\/\/\S+)/.exec(seen);
      if (found?.[1]) resolve(found[1]);
    });
    void serve.then(() => reject(new Error(`orch serve ended early: ${seen}`)));
  });
  return { serve, at };
}

let project: { dir: string; cleanup: () => void };
let server: Served;
let base: URL;
const TOKEN = 'a2a-test-token-0123456789';

beforeAll(async () => {
  project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM });
  const served = await serveA2a(project.dir, { A2A_TOKEN: TOKEN }, ['--token-env', 'A2A_TOKEN']);
  server = served.serve;
  base = new URL(served.at);
});

afterAll(async () => {
  server.kill('SIGTERM');
  const result = await server;
  project.cleanup();
  expect(result.exitCode).toBe(143);
  expect(await survivors(server.pid === undefined ? [] : [server.pid])).toEqual([]);
});

/** The SDK's own client, sending the bearer token. */
function client(token = TOKEN): Promise<Client> {
  const fetchImpl: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const options = ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] });
  return new ClientFactory(options).createFromUrl(base.href);
}

function message(parts: Part['content'][], taskId = ''): Message {
  return {
    messageId: crypto.randomUUID(),
    contextId: '',
    taskId,
    role: Role.ROLE_USER,
    parts: parts.map((content) => ({ content, metadata: undefined, filename: '', mediaType: '' })),
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

const send = async (c: Client, parts: Part['content'][], taskId = ''): Promise<Task> => {
  const result = await c.sendMessage({ tenant: '', message: message(parts, taskId), configuration: undefined, metadata: undefined });
  if (!('status' in result)) throw new Error(`expected a task, got ${JSON.stringify(result)}`);
  return result;
};

const data = (value: unknown): Part['content'] => ({ $case: 'data', value });
const textOf = (task: Task): string => (task.status?.message?.parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
const artifact = (task: Task): unknown => {
  const part = task.artifacts.at(-1)?.parts[0]?.content;
  return part?.$case === 'data' ? part.value : undefined;
};

describe('orch serve --a2a', () => {
  it('serves an Agent Card built from agent-team.yaml, advertising the bearer scheme', async () => {
    const c = await client();
    const card = await c.getAgentCard();
    expect(card.name).toBe('greeters');
    expect(card.description).toBe('A team that greets and deploys');
    expect(card.version).toBe('3.1.4');
    expect(card.skills.map((s) => s.id)).toEqual(['greeting', 'release']);
    expect(card.skills[0]?.description).toContain('`who` (string, required): Whom to greet');
    expect(card.capabilities?.streaming).toBe(true);
    expect(card.securitySchemes.bearer?.scheme).toMatchObject({ $case: 'httpAuthSecurityScheme', value: { scheme: 'Bearer' } });
    expect(card.securityRequirements).toEqual([{ schemes: { bearer: { list: [] } } }]);
    expect(card.supportedInterfaces.map((i) => i.protocolVersion)).toEqual(['1.0', '0.3']);
    expect(new URL(card.supportedInterfaces[0]?.url ?? '').hostname).toBe('127.0.0.1');
    // A v0.3 client gets the card in v0.3's shape.
    const legacy = (await (await fetch(new URL('/.well-known/agent-card.json', base))).json()) as { protocolVersion?: string; skills: { id: string }[] };
    expect(legacy.protocolVersion).toBe('0.3');
    expect(legacy.skills.map((s) => s.id)).toEqual(['greeting', 'release']);
  });

  it('refuses a request without the bearer token', async () => {
    const c = await client('wrong');
    await expect(send(c, [data({ workflow: 'greeting', inputs: { who: 'x' } })])).rejects.toThrow(/401|Unauthorized/);
    const raw = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'x' } }) });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('runs a workflow from a data part: the task id is the run id, the artifact its outputs', async () => {
    const c = await client();
    const task = await send(c, [data({ workflow: 'greeting', inputs: { who: 'ada' } })]);
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(task.id).toMatch(/^\d{8}-\d{6}-[0-9a-f]+$/);
    expect(artifact(task)).toEqual({ greet: 'hello ada' });
    const got = await c.getTask({ tenant: '', id: task.id, historyLength: undefined });
    expect(got.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(artifact(got)).toEqual({ greet: 'hello ada' });
    const logs = orch(['-C', project.dir, 'logs', task.id]);
    await breathe();
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('greet');
  });

  it('streams a status update per step', async () => {
    const c = await client();
    const updates: string[] = [];
    let final: TaskState | undefined;
    for await (const event of c.sendMessageStream({ tenant: '', message: message([data({ workflow: 'greeting', inputs: { who: 'bo' } })]), configuration: undefined, metadata: undefined })) {
      if (event.payload?.$case === 'statusUpdate') {
        const status = event.payload.value.status;
        final = status?.state;
        updates.push((status?.message?.parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join(''));
      }
    }
    expect(updates).toEqual(expect.arrayContaining(['step greet started', 'step greet succeeded']));
    expect(final).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('puts a gate in input-required with its question; a reply decides it', async () => {
    const c = await client();
    const waiting = await send(c, [data({ workflow: 'release' })]);
    expect(waiting.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(textOf(waiting)).toContain('Approve step `ship`');
    const unclear = await send(c, [{ $case: 'text', value: 'sure' }], waiting.id);
    expect(unclear.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(textOf(unclear)).toContain('{"approve": true}');
    const done = await send(c, [data({ approve: true })], waiting.id);
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(artifact(done)).toEqual({ build: 'hello build', ship: 'deployed' });
    const journal = orch(['-C', project.dir, 'logs', waiting.id]).stdout;
    await breathe();
    expect(journal).toContain('approved by a2a client via the serving client');

    const rejected = await send(c, [data({ workflow: 'release' })]);
    const failed = await send(c, [data({ approve: false, reason: 'not today' })], rejected.id);
    expect(failed.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect(artifact(failed)).toEqual({ build: 'hello build' });
    expect(orch(['-C', project.dir, 'logs', rejected.id]).stdout).toContain('rejected by a2a client via the serving client — not today');
    await breathe();
  });

  it('answers a malformed message, an unknown workflow and a text without an orchestrator with clear errors', async () => {
    const c = await client();
    await expect(send(c, [data({ workflow: 'nope' })])).rejects.toThrow(/no workflow `nope`; its workflows are: greeting, release/);
    await expect(send(c, [data({ workflow: 'greeting', inputs: {} })])).rejects.toThrow(/who/);
    await expect(send(c, [{ $case: 'text', value: 'hello team' }])).rejects.toThrow(/no orchestrator agent with a model/);
  });

  it('speaks v0.3 JSON-RPC method names too', async () => {
    const c = await client();
    const task = await send(c, [data({ workflow: 'greeting', inputs: { who: 'v03' } })]);
    const raw = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { id: task.id } }),
    });
    const body = (await raw.json()) as { result?: { kind: string; id: string; status: { state: string } } };
    expect(body.result).toMatchObject({ kind: 'task', id: task.id, status: { state: 'completed' } });
  });

  it('refuses a foreign Host (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ default: http }) => {
        const req = http.request(base, { method: 'GET', path: '/.well-known/agent-card.json', headers: { host: `evil.example.com:${base.port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(status).toBe(403);
  });

  it('is a team member of another orch project (a2a: <url>), gates included', async () => {
    const caller = tempProject({
      'agent-team.yaml': `
agents:
  - role: greeters
    a2a: \${GREETERS}
    headers: { Authorization: "Bearer \${GREETERS_TOKEN}" }
workflows:
  nested:
    - { id: hello, agent: greeters, action: greeting, with: { who: nested } }
  nested_release:
    - { id: release, agent: greeters, action: release }
`,
    });
    const env = { GREETERS: base.href, GREETERS_TOKEN: TOKEN };
    try {
      const run = orch(['-C', caller.dir, 'run', 'nested', '--json'], { env });
      await breathe();
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toEqual({ greet: 'hello nested' });

      // The served team's gate reaches the caller's run as an approval to give.
      const paused = orch(['-C', caller.dir, 'run', 'nested_release', '--json'], { env });
      await breathe();
      expect(paused.code).toBe(3);
      const runId = (JSON.parse(paused.stdout) as { run_id: string }).run_id;
      expect(orch(['-C', caller.dir, 'approve', runId, 'release']).code).toBe(0);
      await breathe();
      const resumed = orch(['-C', caller.dir, 'resume', runId, '--json'], { env });
      await breathe();
      expect(resumed.code).toBe(0);
      expect((JSON.parse(resumed.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toEqual({ build: 'hello build', ship: 'deployed' });
    } finally {
      caller.cleanup();
    }
  });
});

describe('orch serve --a2a with an orchestrator', () => {
  it('sends a text message to the orchestrator agent; CancelTask interrupts a running task', async () => {
    const dir = tempProject();
    const stub = await startStubProcess(dir.dir, [{ text: '{"plan": "ship on friday"}' }]);
    const team = tempProject({
      'gantz.yaml': `
tools:
  wait:
    description: Waits
    script: { shell: 'sleep 30' }
`,
      'agent-team.yaml': `
team: { name: planners }
agents:
  - role: orchestrator
    description: Plans the work
    model: claude-sonnet-4-5
  - role: sleeper
    tools: [wait]
workflows:
  slow:
    - { agent: sleeper, action: wait }
`,
    });
    const { serve, at } = await serveA2a(team.dir, { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: stub.anthropicBase });
    try {
      const c = await new ClientFactory().createFromUrl(at);
      expect((await c.getAgentCard()).skills.map((s) => s.id)).toEqual(['slow', 'orchestrator']);
      const answered = await send(c, [{ $case: 'text', value: 'plan the release' }]);
      expect(answered.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(artifact(answered)).toEqual({ orchestrator: { plan: 'ship on friday' } });
      expect(JSON.stringify((await stub.requests())[0])).toContain('plan the release');

      const running = await c.sendMessage({
        tenant: '',
        message: message([data({ workflow: 'slow' })]),
        configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: true },
        metadata: undefined,
      });
      if (!('status' in running)) throw new Error('expected a task');
      await until(() => orch(['-C', team.dir, 'logs', running.id]).stdout.includes('started'), 'the step to start');
      // A message while it works is refused: the task waits for no reply.
      await expect(send(c, [data({ approve: true })], running.id)).rejects.toThrow(/is working and waits for no reply/);
      await c.cancelTask({ tenant: '', id: running.id, metadata: undefined });
      let state: TaskState | undefined;
      for (let i = 0; i < 100 && state !== TaskState.TASK_STATE_CANCELED; i++) {
        state = (await c.getTask({ tenant: '', id: running.id, historyLength: 0 })).status?.state;
        if (state !== TaskState.TASK_STATE_CANCELED) await new Promise((r) => setTimeout(r, 100));
      }
      expect(state).toBe(TaskState.TASK_STATE_CANCELED);
      expect(orch(['-C', team.dir, 'logs', running.id]).stdout).toContain('interrupted');
      await breathe();
    } finally {
      serve.kill('SIGTERM');
      await serve;
      stub.stop();
      team.cleanup();
      dir.cleanup();
    }
  });
});

describe('orch serve --a2a with an LLM agent that asks a person', () => {
  it("puts the agent's ask_human question in input-required; the reply is the answer its model gets, and a refusal reaches it as the tool's error", async () => {
    const scratch = tempProject();
    const asks = (answer: string) => ({ when: answer, text: `going to ${answer}` });
    const stub = await startStubProcess(scratch.dir, [
      { toolCalls: [{ id: 'toolu_ask_1', name: 'ask_human', input: { question: 'Which region should api go to?' } }] },
      asks('eu-west-1'),
      { toolCalls: [{ id: 'toolu_ask_2', name: 'ask_human', input: { question: 'Which region should api go to?' } }] },
      { when: 'not today', text: 'not deploying: the person declined' },
      // A question from an agent the orchestrator delegated to reaches the client the same way.
      { when: 'You are the `lead` agent', toolCalls: [{ id: 'toolu_delegate', name: 'dispatch_to_agent', input: { agent: 'deployer', task: 'choose the region of api' } }] },
      { when: 'You are the `deployer` agent', toolCalls: [{ id: 'toolu_ask_3', name: 'ask_human', input: { question: 'Which region, for the lead?' } }] },
      { when: 'us-east-2', text: 'us-east-2 it is' },
      { when: 'You are the `lead` agent', text: 'the deployer chose us-east-2' },
    ]);
    const team = tempProject({
      'agent-team.yaml': `
team: { name: askers }
agents:
  - role: deployer
    model: claude-sonnet-4-5
    tools: [ask_human]
  - role: lead
    model: claude-sonnet-4-5
    tools: [dispatch_to_agent]
workflows:
  place:
    - { id: place, agent: deployer, action: choose_region, with: { service: api } }
  delegate:
    - { id: lead, agent: lead, action: place_api }
`,
    });
    const { serve, at } = await serveA2a(team.dir, { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: stub.anthropicBase });
    try {
      const c = await new ClientFactory().createFromUrl(at);
      const waiting = await send(c, [data({ workflow: 'place' })]);
      expect(waiting.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
      expect(textOf(waiting)).toBe('The agent of step `place` asks: Which region should api go to?');
      const parts = waiting.status?.message?.parts.map((p) => p.content) ?? [];
      expect(parts).toContainEqual({ $case: 'data', value: expect.objectContaining({ gate: 'question', question: 'Which region should api go to?' }) });
      // An approval is not an answer: the question is asked again.
      const unclear = await send(c, [data({ approve: true })], waiting.id);
      expect(unclear.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
      expect(textOf(unclear)).toContain('reply with the answer as text');
      const done = await send(c, [{ $case: 'text', value: 'eu-west-1' }], waiting.id);
      expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(artifact(done)).toEqual({ place: 'going to eu-west-1' });
      const requests = await stub.requests();
      expect(requests).toHaveLength(2);
      expect(JSON.stringify(requests[1]?.body.messages)).toMatch(/"tool_use_id":"toolu_ask_1","content":"eu-west-1"/);
      expect(orch(['-C', team.dir, 'logs', waiting.id]).stdout).toContain('answered eu-west-1');
      await breathe();

      // Declined: the model gets the refusal and its reason as the tool's error, and finishes.
      const again = await send(c, [data({ workflow: 'place' })]);
      expect(again.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
      const declined = await send(c, [data({ approve: false, reason: 'not today' })], again.id);
      expect(declined.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(artifact(declined)).toEqual({ place: 'not deploying: the person declined' });
      const last = (await stub.requests()).at(-1);
      expect(JSON.stringify(last?.body.messages)).toMatch(/"tool_use_id":"toolu_ask_2".*not today/);
      await breathe();

      const delegated = await send(c, [data({ workflow: 'delegate' })]);
      expect(delegated.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
      expect(textOf(delegated)).toBe('The agent of step `lead` asks: Which region, for the lead?');
      const chosen = await send(c, [data({ answer: 'us-east-2' })], delegated.id);
      expect(chosen.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(artifact(chosen)).toEqual({ lead: 'the deployer chose us-east-2' });
      expect(await stub.requests()).toHaveLength(8);
      await breathe();
    } finally {
      serve.kill('SIGTERM');
      await serve;
      stub.stop();
      team.cleanup();
      scratch.cleanup();
    }
  });
});

describe('orch serve --a2a usage errors', () => {
  it.each([
    [['--a2a', 'abc'], {}, '--a2a needs a port number (0-65535), not "abc"'],
    [['--token-env', 'A2A_TOKEN'], { A2A_TOKEN: 'x' }, '--token-env applies to the A2A server'],
    [['--a2a', '0', '--token-env', 'A2A_UNSET_TOKEN'], {}, '--token-env names A2A_UNSET_TOKEN, which is not set'],
  ])('orch serve %j is refused with exit 2', async (args, env, expected) => {
    const p = tempProject({ 'gantz.yaml': GANTZ });
    try {
      const run = orch(['-C', p.dir, 'serve', ...args], { env });
      await breathe();
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(expected);
    } finally {
      p.cleanup();
    }
  });
});
