import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { hasRedis, freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { startStubProcess, type StubProcess } from '../helpers/llm-stub-process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// The queue engine end to end: a real redis-server, `orch worker` processes, and runs
// submitted by other orch processes, all through the built bin.

const GANTZ = `name: queue-e2e
tools:
  build:
    description: Builds, until told to go on
    parameters: { name: { type: string, required: true } }
    script: { shell: "echo {{name}} >> started.log; while [ ! -f go ]; do sleep 0.05; done; echo built-{{name}}" }
  charge:
    description: Charges a card, which must not happen twice
    idempotent: false
    script: { shell: "echo charge >> started.log; while [ ! -f go ]; do sleep 0.05; done; echo charged" }
  flaky:
    description: Fails the first time it runs for a name
    parameters: { name: { type: string, required: true } }
    script: { shell: "if [ -f tried-{{name}} ]; then echo ok-{{name}}; else touch tried-{{name}}; echo broke >&2; exit 1; fi" }
  stubborn:
    description: Fails the first time it runs for a name, then waits until told to go on
    parameters: { name: { type: string, required: true } }
    script: { shell: "echo {{name}} >> started.log; if [ -f tried-{{name}} ]; then while [ ! -f go ]; do sleep 0.05; done; echo ok-{{name}}; else touch tried-{{name}}; exit 1; fi" }
  parent:
    description: Says which process started it
    script: { shell: "echo $PPID" }
  gather:
    description: Gathers results into one text
    parameters: { results: { type: object, required: true } }
    script: { shell: "printf '%s' {{results}}" }
  shout:
    description: Upper-cases a text
    parameters: { text: { type: string, required: true } }
    script: { shell: "printf '%s' {{text}} | tr a-z A-Z" }
`;

const team = (url: string) => `team: { name: q }
engine: ${url}
agents:
  - role: builder
    tools: [build, charge, flaky, stubborn]
    count: 2
  - role: loud
    tools: [shout, gather]
  - role: sandboxed
    isolation: process
    tools: [parent]
  - role: writer
    model: claude-sonnet-4-5
    tools: [shout]
  - role: lead
    model: claude-sonnet-4-5
    tools: [dispatch_to_agent]
workflows:
  lead:
    - { id: handle, agent: lead, action: handle_request }
  release:
    - { id: one, agent: builder, action: build, with: { name: a } }
    - { id: two, agent: loud, action: shout, with: { text: "\${{ steps.one.output }}" } }
  pay:
    - { id: pay, agent: builder, action: charge }
  recover:
    - { id: flaky, agent: builder, action: flaky, with: { name: wf }, on_failure: reassign }
  fan:
    - { id: x, agent: loud, action: shout, with: { text: ex } }
    - { id: y, agent: loud, action: shout, with: { text: why }, needs: [] }
    - { id: z, agent: loud, action: gather, needs: [x, y], with: { results: { x: "\${{ steps.x.output }}", y: "\${{ steps.y.output }}" } } }
  slowfan:
    - { id: x, agent: builder, action: build, with: { name: sx } }
    - { id: y, agent: loud, action: shout, with: { text: why }, needs: [] }
    - { id: z, agent: loud, action: gather, needs: [x, y], with: { results: { x: "\${{ steps.x.output }}", y: "\${{ steps.y.output }}" } } }
  gated:
    - { id: check, agent: loud, action: shout, with: { text: ok }, gate: approval_required }
  write:
    - { id: draft, agent: writer, action: write_note }
`;

interface Proc {
  child: ChildProcess;
  out: () => string;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FORCE_COLOR: undefined, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  const proc = { child, out: () => stdout + stderr, done };
  running.add(proc);
  void done.then(() => running.delete(proc));
  return proc;
}

/** Every orch process a test started that has not ended: a test that fails half-way leaves none behind. */
const running = new Set<Proc>();

const run = (args: string[], cwd: string, env?: NodeJS.ProcessEnv) => start(args, cwd, env).done;

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!hasRedis && !process.env.CI)('queue engine (BullMQ on redis-server)', () => {
  let redis: RedisServer;
  let dir = '';
  let redisDir = '';
  const workers: Proc[] = [];

  beforeAll(async () => {
    redisDir = mkdtempSync(path.join(tmpdir(), 'orch-redis-'));
    redis = await startRedis(redisDir);
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    workers.splice(0);
    for (const p of [...running]) {
      if (p.child.exitCode === null) {
        p.child.kill('SIGKILL');
        await p.done;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh project (and a team name of its own, so its keys never meet another test's). */
  function project(): string {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-queue-'));
    writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
    writeFileSync(path.join(dir, 'agent-team.yaml'), team(redis.url).replace('name: q', `name: q${path.basename(dir).slice(-6)}`));
    return dir;
  }

  async function worker(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Proc> {
    const w = start(['worker', '--stall-interval', '1s', ...args], dir, env);
    workers.push(w);
    await until(() => w.out().includes(' takes '), 'the worker to start');
    return w;
  }

  const pidOf = (w: Proc) => w.child.pid!;
  const started = () => (existsSync(path.join(dir, 'started.log')) ? readFileSync(path.join(dir, 'started.log'), 'utf8') : '');
  const runId = () => readdirSync(path.join(dir, '.orch', 'runs'))[0] ?? '';
  const journal = () => readFileSync(path.join(dir, '.orch', 'runs', runId(), 'journal.jsonl'), 'utf8');
  /** The events of one type in a journal's text. */
  const eventsIn = <T,>(text: string, type: string) =>
    text
      .split('\n')
      .filter((l) => l.includes(`"${type}"`))
      .map((l) => JSON.parse(l) as T);
  const stepAgents = () => eventsIn<{ agent_id: string }>(journal(), 'step_started').map((e) => e.agent_id);
  const taskEvents = <T,>(taskId: string, type: string) => eventsIn<T>(readFileSync(path.join(dir, '.orch', 'tasks', taskId, 'journal.jsonl'), 'utf8'), type);
  type Queues = { queue: (name: string) => import('bullmq').Queue; prefix: string };
  /** Reads the project's BullMQ queues as BullMQ's own client reads them, closing them after. */
  async function inQueues(body: (q: Queues) => Promise<void>): Promise<void> {
    const { Queue } = await import('bullmq');
    const prefix = `orch:q${path.basename(dir).slice(-6)}`;
    const open: { close(): Promise<void> }[] = [];
    const queue = (name: string) => {
      const q = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port }, prefix });
      open.push(q);
      return q;
    };
    try {
      await body({ queue, prefix });
    } finally {
      await Promise.all(open.map((q) => q.close()));
    }
  }
  /** Jobs left on the queue of fan-in gates: none once every fan-in was released or removed. */
  const gatesLeft = (q: Queues) => q.queue('#fan-in').getJobCountByTypes('waiting', 'completed', 'failed');

  /** A run of `slowfan` killed -9 with x running and y done: its fan-in z is held in Redis. */
  async function killedMidFanOut(): Promise<void> {
    project();
    await worker(['--agent-type', 'loud']);
    await worker(['--agent-type', 'builder']);
    const running = start(['run', 'slowfan'], dir);
    await until(() => started().includes('sx') && journal().includes('{"type":"step_succeeded","step":"y"'), 'x to start and y to end');
    running.child.kill('SIGKILL');
    await running.done;
  }

  it('fan-out/fan-in as a BullMQ flow: the fan-in is the parent of its inputs, retries included, and BullMQ starts it after them', async () => {
    project();
    await worker(['--agent-type', 'builder']);
    await worker(['--agent-type', 'loud']);
    const task = {
      coordination: 'fan-out',
      subtasks: [
        { id: 'a', tool: 'flaky', input: { name: 'fa' } },
        { id: 'b', tool: 'shout', input: { text: 'bee' } },
      ],
      fan_in: { tool: 'gather' },
      failure_policy: { max_retries: 1, max_reassignments: 0 },
    };
    const done = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify(task)], dir);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const report = JSON.parse(done.stdout) as { task_id: string; status: string; subtasks: Record<string, { status: string; attempts: number; result: unknown }> };
    expect(report.status).toBe('completed');
    expect(report.subtasks.a!.attempts).toBe(2);
    expect(JSON.stringify(report.subtasks.fan_in!.result)).toContain('BEE');
    expect(JSON.stringify(report.subtasks.fan_in!.result)).toContain('ok-fa');
    await inQueues(async (q) => {
      const fanIn = (await q.queue('loud').getJob(`${report.task_id}/fan_in`))!;
      expect(await fanIn.getState()).toBe('completed');
      // Its children: both inputs, and the retry of the one that failed (on its worker's own queue).
      const children = await fanIn.getChildrenValues<{ ok: boolean }>();
      const names = Object.keys(children).map((k) => k.slice(q.prefix.length + 1));
      expect(names.sort()).toEqual([`builder:${report.task_id}/a`, `loud:${report.task_id}/b`, expect.stringMatching(new RegExp(`^@.*:${report.task_id}/a/2$`))].sort());
      expect(Object.values(children).map((c) => c.ok).sort()).toEqual([false, true, true]);
      const ends = await Promise.all(Object.keys(children).map(async (key) => {
        const [, queue, id] = /^[^:]+:[^:]+:([^:]+):(.+)$/.exec(key)!;
        return (await q.queue(queue!).getJob(id!))!.finishedOn!;
      }));
      expect(fanIn.processedOn!).toBeGreaterThanOrEqual(Math.max(...ends));
      // The gate that held it until the run gave it its task is gone.
      expect(await gatesLeft(q)).toBe(0);
    });
  });

  it("a workflow's fan-in step is the flow's parent; a fan-in never run leaves nothing behind in Redis", async () => {
    project();
    await worker(['--agent-type', 'loud']);
    await worker(['--agent-type', 'builder']);
    const done = await run(['--json', 'run', 'fan'], dir);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    await inQueues(async (q) => {
      const z = (await q.queue('loud').getJob(`${runId()}/z/1`))!;
      expect(Object.keys(await z.getChildrenValues()).sort()).toEqual([`${q.prefix}:loud:${runId()}/x/1`, `${q.prefix}:loud:${runId()}/y/1`]);
      expect(JSON.stringify(z.returnvalue)).toContain('WHY');
      // An input fails for good: the fan-in is never given its task, and the flow's parent and gate are removed.
      const broken = { coordination: 'fan-out', subtasks: [{ id: 'a', tool: 'flaky', input: { name: 'once' } }, { id: 'b', tool: 'shout', input: { text: 'bee' } }], fan_in: { tool: 'gather' }, failure_policy: { max_retries: 0, max_reassignments: 0 } };
      const failed = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify(broken)], dir);
      const report = JSON.parse(failed.stdout) as { task_id: string; subtasks: Record<string, { status: string; error?: { code: string } }> };
      expect(report.subtasks.fan_in!.error?.code).toBe('ORCH_DEPENDENCY_FAILED');
      expect(await q.queue('loud').getJob(`${report.task_id}/fan_in`)).toBeUndefined();
      expect(await q.queue('loud').getWaitingChildrenCount()).toBe(0);
      expect(await gatesLeft(q)).toBe(0);
    });
  });

  it('a run killed during its fan-out leaves the fan-in held in Redis; resumed, the run releases it and BullMQ starts it', async () => {
    await killedMidFanOut();
    await inQueues(async (q) => {
      const held = `${runId()}/z/1`;
      expect(await (await q.queue('loud').getJob(held))!.getState()).toBe('waiting-children');
      writeFileSync(path.join(dir, 'go'), '');
      const resumed = await run(['--json', 'resume', runId()], dir);
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      const z = (await q.queue('loud').getJob(held))!;
      expect(await z.getState()).toBe('completed');
      expect(JSON.stringify(z.returnvalue)).toContain('built-sx');
      expect(Object.keys(await z.getChildrenValues()).sort()).toEqual([`${q.prefix}:builder:${runId()}/x/1`, `${q.prefix}:loud:${runId()}/y/1`]);
      expect(await gatesLeft(q)).toBe(0);
      // x ran once: the resumed run found it finished in its queue.
      expect(started().trim().split('\n')).toEqual(['sx']);
    });
  });

  it('a fan-in held for a run that is gone is swept away with its gate; resumed later, the run sends it as a job of its own', async () => {
    await killedMidFanOut();
    const { Redis } = await import('ioredis');
    const { sweepHeldFanIns } = await import('../../src/engine/redis/fan-in-sweep.js');
    const redisClient = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      await inQueues(async (q) => {
        const held = (await q.queue('loud').getJob(`${runId()}/z/1`))!;
        const target = { url: redis.url, shown: redis.url, prefix: `${q.prefix}:` };
        // While the run's session lives (its key lasts 15 s after its last beat), nothing is swept.
        expect(await sweepHeldFanIns(redisClient, target)).toBe(0);
        // Its session's key expires: the run is gone.
        await redisClient.del(`${q.prefix}:session:${(held.data as { session: string }).session}`);
        expect(await sweepHeldFanIns(redisClient, target)).toBe(1);
        expect(await q.queue('loud').getJob(`${runId()}/z/1`)).toBeUndefined();
        expect(await gatesLeft(q)).toBe(0);
        writeFileSync(path.join(dir, 'go'), '');
        const resumed = await run(['--json', 'resume', runId()], dir);
        expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
        const z = (await q.queue('loud').getJob(`${runId()}/z/1`))!;
        expect(JSON.stringify(z.returnvalue)).toContain('built-sx');
        expect(started().trim().split('\n')).toEqual(['sx']);
      });
    } finally {
      redisClient.disconnect();
    }
  });

  it('runs a workflow as jobs that two workers take; each step names the worker instance that ran it', async () => {
    project();
    const [w1, w2] = [await worker(), await worker()];
    writeFileSync(path.join(dir, 'go'), '');
    const done = await run(['--json', 'run', 'release'], dir);
    expect(done.code, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout) as { status: string; steps: { id: string; output: unknown; agent?: string }[] };
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.output)).toEqual(['built-a', 'BUILT-A']);
    const agents = stepAgents();
    expect(agents).toHaveLength(2);
    expect(agents[0]).toMatch(/^builder@/);
    expect(agents[1]).toMatch(/^loud@/);
    // Every job ran exactly once, on one of the two workers.
    const lines = (w1.out() + w2.out()).split('\n').filter((l) => l.startsWith('started '));
    expect(lines).toHaveLength(2);
  });

  it('orchestrate over the queue engine: every subtask is a job, all accounted for in the report', async () => {
    project();
    await worker(['--concurrency', '3']);
    writeFileSync(path.join(dir, 'go'), '');
    const subtasks = ['a', 'b', 'c', 'd'].map((id) => ({ id, tool: 'build', input: { name: id } }));
    const done = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks })], dir);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const report = JSON.parse(done.stdout) as { status: string; subtasks: Record<string, { status: string; result: unknown }> };
    expect(report.status).toBe('completed');
    expect(Object.values(report.subtasks).map((s) => s.result)).toEqual(['built-a', 'built-b', 'built-c', 'built-d']);
    expect(started().trim().split('\n').sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it("each job's result reaches its run on the run's relay stream", async () => {
    project();
    await worker(['--concurrency', '3']);
    writeFileSync(path.join(dir, 'go'), '');
    const { Redis } = await import('ioredis');
    const monitor = await new Redis(redis.url).monitor();
    const told: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      const [command, ...rest] = args.map(String);
      if (command?.toLowerCase() === 'xadd' && rest[0]?.includes(':relay:') && rest.at(-1)?.includes('"t":"done"')) told.push(rest.at(-1)!);
    });
    try {
      const subtasks = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, tool: 'shout', input: { text: id } }));
      const done = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks })], dir);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect((JSON.parse(done.stdout) as { status: string }).status).toBe('completed');
    } finally {
      monitor.disconnect();
    }
    // Every subtask's result went to the run on its stream, the value in it.
    expect(told.map((m) => (JSON.parse(m) as { result: { value: string } }).result.value).sort()).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
  });

  it("a job whose end never reaches its run's stream (a worker that does not tell it) is found in the job's own hash", async () => {
    project();
    const teamName = /name: (q\w+)/.exec(readFileSync(path.join(dir, 'agent-team.yaml'), 'utf8'))![1]!;
    // Takes orch's jobs as BullMQ sees them and returns orch's result, but tells no session.
    const { Worker } = await import('bullmq');
    const silent = new Worker('loud', async (job) => ({ ok: true, agentId: 'loud@silent', value: String((job.data as { task: { input: { text: string } } }).task.input.text).toUpperCase(), executions: 1 }), {
      connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null },
      prefix: `orch:${teamName}`,
    });
    silent.on('error', () => {});
    try {
      const done = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks: [{ id: 'a', tool: 'shout', input: { text: 'quiet' } }] })], dir);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const report = JSON.parse(done.stdout) as { status: string; subtasks: Record<string, { result: unknown; agent_id: string }> };
      expect(report.status).toBe('completed');
      expect(report.subtasks.a).toMatchObject({ result: 'QUIET', agent_id: 'loud@silent' });
    } finally {
      await silent.close();
    }
  });

  it('kill -9 of a worker during a job: another worker takes the job over, and the run succeeds', async () => {
    project();
    const first = await worker(['--agent-type', 'builder']);
    const running = start(['--json', 'run', 'release'], dir);
    await until(() => started().includes('a'), 'the job to start');
    const second = await worker();
    const victim = first.out().includes('started ') ? first : second;
    victim.child.kill('SIGKILL');
    await victim.done;
    writeFileSync(path.join(dir, 'go'), '');
    const done = await running.done;
    expect(done.code, done.stderr).toBe(0);
    expect(second.out()).toMatch(/started .*\/one\/1 .*\(run again: execution 2\)/);
    // At least once: the job's first run was cut short, then it ran again.
    expect(started().trim().split('\n')).toEqual(['a', 'a']);
    expect((JSON.parse(done.stdout) as { status: string }).status).toBe('succeeded');
  });

  it('kill -9 during an orchestrate task: every subtask is in the report exactly once, none lost, the re-execution counted', async () => {
    project();
    const first = await worker(['--agent-type', 'builder', '--concurrency', '3']);
    const subtasks = ['a', 'b', 'c'].map((id) => ({ id, tool: 'build', input: { name: id } }));
    const running = start(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks })], dir);
    await until(() => started().trim().split('\n').length === 3, 'the three jobs to start');
    await worker(['--agent-type', 'builder', '--concurrency', '3']);
    first.child.kill('SIGKILL');
    await first.done;
    writeFileSync(path.join(dir, 'go'), '');
    const done = await running.done;
    expect(done.code, done.stderr).toBe(0);
    const report = JSON.parse(done.stdout) as { status: string; reexecutions?: number; subtasks: Record<string, { status: string; result: unknown; reexecuted?: number }> };
    expect(report.status).toBe('completed');
    expect(Object.keys(report.subtasks).sort()).toEqual(['a', 'b', 'c']);
    expect(Object.values(report.subtasks).map((s) => s.result)).toEqual(['built-a', 'built-b', 'built-c']);
    expect(report.reexecutions).toBe(3);
    expect(Object.values(report.subtasks).map((s) => s.reexecuted)).toEqual([1, 1, 1]);
  });

  it("orchestrate's recovery over the queue engine: a retry runs again on the worker the subtask failed on, a reassignment on another", async () => {
    project();
    await worker(['--agent-type', 'builder', '--concurrency', '2']);
    await worker(['--agent-type', 'builder', '--concurrency', '2']);
    type Report = { task_id: string; status: string; subtasks: Record<string, { status: string; agent_id: string; attempts: number; result: unknown }> };
    const recover = async (prefix: string, failure_policy: Record<string, unknown>) => {
      const subtasks = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ id, tool: 'flaky', input: { name: `${prefix}${id}` } }));
      const done = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks, failure_policy })], dir);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const report = JSON.parse(done.stdout) as Report;
      expect(report.status).toBe('completed');
      const failedOn = new Map(taskEvents<{ subtask: string; agent_id: string }>(report.task_id, 'subtask_failed').map((e) => [e.subtask, e.agent_id]));
      expect(failedOn.size).toBe(6);
      return Object.entries(report.subtasks).map(([id, s]) => {
        expect(s.result).toBe(`ok-${prefix}${id}`);
        expect(s.attempts).toBe(2);
        return { failed: failedOn.get(id), ran: s.agent_id };
      });
    };
    // Six subtasks on two workers: each retry landing on its own worker by chance is 1 in 64.
    for (const { failed, ran } of await recover('r', { max_retries: 1, max_reassignments: 0 })) expect(ran).toBe(failed);
    for (const { failed, ran } of await recover('s', { max_retries: 0, max_reassignments: 1 })) {
      expect(ran).toMatch(/^builder@/);
      expect(ran).not.toBe(failed);
    }
  });

  it('assign_task over the queue engine: a task named as before runs again, as on the local engine', async () => {
    project();
    await worker(['--agent-type', 'builder']);
    writeFileSync(path.join(dir, 'go'), '');
    const assign = () => run(['--json', 'run', 'assign_task', '--task', JSON.stringify({ id: 'nightly', tool: 'build', input: { name: 'n' } }), '--agent-id', 'builder-1'], dir);
    for (const _ of [1, 2]) {
      const done = await assign();
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(JSON.parse(done.stdout)).toMatchObject({ task_id: 'nightly', status: 'completed', result: 'built-n' });
    }
    expect(started().trim().split('\n')).toEqual(['n', 'n']);
  });

  it('handle_failure over the queue engine takes the worker instance a report names: a retry runs on it, a reassignment on another', async () => {
    project();
    await worker(['--agent-type', 'builder']);
    await worker(['--agent-type', 'builder']);
    type Handled = { recovery_action: string; subtasks: string[]; result: { status: string; subtasks: Record<string, { status: string; agent_id: string }> } };
    for (const [name, policy, action] of [['hr', { max_retries: 1, max_reassignments: 0 }, 'retry'], ['hs', { max_retries: 0, max_reassignments: 1 }, 'reassign']] as const) {
      writeFileSync(path.join(dir, 'agent-team.yaml'), readFileSync(path.join(dir, 'agent-team.yaml'), 'utf8').replace(/\norchestration:.*$/s, '') + `\norchestration: { failure_policy: ${JSON.stringify(policy)} }\n`);
      const task = { subtasks: [{ id: 'a', tool: 'flaky', input: { name } }], failure_policy: { max_retries: 0, max_reassignments: 0 } };
      const failed = JSON.parse((await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify(task)], dir)).stdout) as { task_id: string; subtasks: { a: { status: string; agent_id: string } } };
      expect(failed.subtasks.a).toMatchObject({ status: 'failed', agent_id: expect.stringMatching(/^builder@/) });
      const done = await run(['--json', 'run', 'handle_failure', '--agent-id', failed.subtasks.a.agent_id, '--task-id', failed.task_id], dir);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const handled = JSON.parse(done.stdout) as Handled;
      expect(handled.recovery_action).toBe(action);
      expect(handled.result).toMatchObject({ status: 'completed', subtasks: { a: { status: 'succeeded' } } });
      const ran = handled.result.subtasks.a!.agent_id;
      expect(ran).toMatch(/^builder@/);
      if (action === 'retry') expect(ran).toBe(failed.subtasks.a.agent_id);
      else expect(ran).not.toBe(failed.subtasks.a.agent_id);
      const report = JSON.parse(readFileSync(path.join(dir, '.orch', 'tasks', failed.task_id, 'report.json'), 'utf8')) as { subtasks: { a: { result: unknown } } };
      expect(report.subtasks.a.result).toBe(`ok-${name}`);
    }
    // The worker a subtask failed on is gone: its instance is still known, and its failure reassigned to a live one.
    const task = { subtasks: [{ id: 'a', tool: 'flaky', input: { name: 'ht' } }], failure_policy: { max_retries: 0, max_reassignments: 0 } };
    const failed = JSON.parse((await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify(task)], dir)).stdout) as { task_id: string; subtasks: { a: { agent_id: string } } };
    const gone = workers.find((w) => w.out().includes(failed.subtasks.a.agent_id.split('@')[1]!))!;
    gone.child.kill('SIGKILL');
    await gone.done;
    const after = await run(['--json', 'run', 'handle_failure', '--agent-id', failed.subtasks.a.agent_id, '--task-id', failed.task_id], dir);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    const handled = JSON.parse(after.stdout) as Handled;
    expect(handled.recovery_action).toBe('reassign');
    expect(handled.result.subtasks.a!.status).toBe('succeeded');
    expect(handled.result.subtasks.a!.agent_id).not.toBe(failed.subtasks.a.agent_id);
  });

  it('a workflow step with on_failure: reassign runs again on another worker', async () => {
    project();
    await worker(['--agent-type', 'builder']);
    await worker(['--agent-type', 'builder']);
    const done = await run(['--json', 'run', 'recover'], dir);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const agents = stepAgents();
    expect(agents).toHaveLength(2);
    expect(agents[1]).toMatch(/^builder@/);
    expect(agents[1]).not.toBe(agents[0]);
  });

  it('kill -9 of the worker a retry was sent to: the job is given up, and the subtask reassigned to another worker', async () => {
    project();
    const first = await worker(['--agent-type', 'builder']);
    const subtasks = [{ id: 'a', tool: 'stubborn', input: { name: 'x' } }];
    const running = start(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks, failure_policy: { max_retries: 1, max_reassignments: 1 } })], dir);
    // The first attempt failed; the retry, on the same worker's own queue, waits for `go`.
    await until(() => started().trim().split('\n').length === 2, 'the retry to start');
    // orch status counts it: a job on a worker's own queue is one of its type's running jobs.
    const status = JSON.parse((await run(['--json', 'status'], dir)).stdout) as { pools: { type: string; busy: number; queued: number }[] };
    expect(status.pools.find((p) => p.type === 'builder')).toMatchObject({ busy: 1, queued: 0 });
    const second = await worker(['--agent-type', 'builder']);
    first.child.kill('SIGKILL');
    await first.done;
    // No other worker reads a worker's own queue, so nothing else would take this job over.
    await until(() => started().trim().split('\n').length === 3, 'the reassignment to start');
    writeFileSync(path.join(dir, 'go'), '');
    const done = await running.done;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const report = JSON.parse(done.stdout) as { task_id: string; subtasks: Record<string, { status: string; agent_id: string; result: unknown }> };
    expect(report.subtasks.a).toMatchObject({ status: 'succeeded', result: 'ok-x' });
    expect(second.out()).toContain('started ');
    const failures = taskEvents<{ error: { code: string } }>(report.task_id, 'subtask_failed').map((e) => e.error.code);
    expect(failures).toEqual(['ORCH_TOOL_FAILED', 'ORCH_WORKER_DIED']);
  });

  it('a tool declared idempotent: false is failed, not run again, when its worker dies', async () => {
    project();
    const first = await worker(['--agent-type', 'builder']);
    const running = start(['run', 'pay'], dir);
    await until(() => started().includes('charge'), 'the charge to start');
    await worker(['--agent-type', 'builder']);
    first.child.kill('SIGKILL');
    const done = await running.done;
    expect(done.code).toBe(1);
    expect(journal()).toContain('"code":"ORCH_WORKER_LOST"');
    expect(started().trim().split('\n')).toEqual(['charge']);
  });

  it('SIGTERM drains a worker: its running job finishes, it takes no new one, and it exits 0', async () => {
    project();
    const w = await worker();
    const running = start(['run', 'release'], dir);
    await until(() => started().includes('a'), 'the job to start');
    w.child.kill('SIGTERM');
    await until(() => w.out().includes('draining: 1 job(s) running'), 'the drain to start');
    writeFileSync(path.join(dir, 'go'), '');
    const stopped = await w.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/finished +\S+\/one\/1/);
    expect(stopped.stdout).not.toContain('/two/');
    // The next step waits in the queue until a worker comes.
    await worker();
    const done = await running.done;
    expect(done.code, done.stderr).toBe(0);
  });

  it('an LLM step on a queue worker journals its turns in the run that sent it', async () => {
    project();
    const stub: StubProcess = await startStubProcess(dir, [{ toolCalls: [{ name: 'shout', input: { text: 'hello' } }] }, { text: 'the note says HELLO' }]);
    try {
      const env = { ANTHROPIC_API_KEY: 'sk-ant-queue-e2e', ANTHROPIC_BASE_URL: stub.anthropicBase };
      await worker(['--agent-type', 'writer'], env);
      const done = await run(['--json', 'run', 'write'], dir, env);
      expect(done.code, done.stderr).toBe(0);
      expect((JSON.parse(done.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('the note says HELLO');
      const lines = journal();
      expect(lines).toContain('"model_turn"');
      expect(lines).toContain('"tool_call_finished"');
      expect(lines).not.toContain('sk-ant-queue-e2e');
    } finally {
      stub.stop();
    }
  });

  it('an LLM agent on a queue worker delegates: the delegated run is a job of its own, journalled under the step', async () => {
    project();
    const as = (role: string) => `You are the \`${role}\` agent`;
    const stub: StubProcess = await startStubProcess(dir, [
      { when: as('lead'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'writer', task: 'write the note' } }] },
      { when: as('writer'), text: 'NOTE' },
      { when: as('lead'), text: 'the writer wrote NOTE' },
    ]);
    try {
      const env = { ANTHROPIC_API_KEY: 'sk-ant-queue-e2e', ANTHROPIC_BASE_URL: stub.anthropicBase };
      const w = await worker(['--agent-type', 'lead', '--agent-type', 'writer'], env);
      const done = await run(['--json', 'run', 'lead'], dir, env);
      expect(done.code, done.stderr).toBe(0);
      expect((JSON.parse(done.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('the writer wrote NOTE');
      expect(w.out()).toMatch(/started .* on writer@/);
      expect(journal()).toContain('"agent":"writer"');
    } finally {
      stub.stop();
    }
  });

  it('a gate pauses the run; orch approve and orch resume from other processes finish it', async () => {
    project();
    await worker();
    const paused = await run(['run', 'gated'], dir);
    expect(paused.code, paused.stderr).toBe(3);
    expect((await run(['approve', runId(), 'check'], dir)).code).toBe(0);
    const done = await run(['--json', 'resume', runId()], dir);
    expect(done.code, done.stderr).toBe(0);
    expect((JSON.parse(done.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('OK');
  });

  it('state is shared: a run paused on one machine is listed, approved and resumed from another, and each sees the whole journal', async () => {
    project();
    await worker();
    // The other machine: the same project files in a folder of its own, so nothing on disk is shared.
    const other = mkdtempSync(path.join(tmpdir(), 'orch-queue-other-'));
    try {
      for (const f of ['gantz.yaml', 'agent-team.yaml']) writeFileSync(path.join(other, f), readFileSync(path.join(dir, f)));
      const paused = await run(['run', 'gated'], dir);
      expect(paused.code, paused.stderr).toBe(3);
      const id = runId();
      const listed = await run(['--json', 'runs'], other);
      expect(listed.stdout).toContain(id);
      expect((await run(['approve', id, 'check'], other)).code).toBe(0);
      const done = await run(['--json', 'resume', id], other);
      expect(done.code, done.stderr).toBe(0);
      expect((JSON.parse(done.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('OK');
      // The first machine sees what the other did.
      const logs = await run(['logs', id], dir);
      expect(logs.stdout).toMatch(/approved/);
      expect(logs.stdout).toMatch(/succeeded/);
      const first = await run(['--json', 'resume', id], dir);
      expect(first.code).toBe(0);
      expect(readFileSync(path.join(dir, '.orch', 'runs', id, 'journal.jsonl'), 'utf8')).toBe(readFileSync(path.join(other, '.orch', 'runs', id, 'journal.jsonl'), 'utf8'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('orchestration tasks are shared: a task run on one machine is listed, shown, reported and aggregated on another', async () => {
    project();
    await worker(['--concurrency', '2']);
    writeFileSync(path.join(dir, 'go'), '');
    const other = mkdtempSync(path.join(tmpdir(), 'orch-queue-other-'));
    try {
      for (const f of ['gantz.yaml', 'agent-team.yaml']) writeFileSync(path.join(other, f), readFileSync(path.join(dir, f)));
      // `loud` has no `text`: a permanent failure, journalled.
      const subtasks = [
        { id: 'a', tool: 'build', input: { name: 'a' } },
        { id: 'bad', tool: 'shout', input: {} },
      ];
      const done = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks })], dir);
      const report = JSON.parse(done.stdout) as { task_id: string; status: string };
      expect(report.status, done.stderr).toBe('partial');
      expect(existsSync(path.join(other, '.orch', 'tasks'))).toBe(false);

      const listed = await run(['--json', 'runs'], other);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain(report.task_id);
      const logs = await run(['logs', report.task_id], other);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout).toMatch(/bad/);
      expect(logs.stdout).toMatch(/ORCH_INPUT/);
      const shown = await run(['--json', 'report', report.task_id], other);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('"bad"');
      // The report and journal are this machine's copies now, equal to the first machine's.
      for (const f of ['report.json', 'journal.jsonl']) {
        expect(readFileSync(path.join(other, '.orch', 'tasks', report.task_id, f), 'utf8')).toBe(readFileSync(path.join(dir, '.orch', 'tasks', report.task_id, f), 'utf8'));
      }
      // A tool that reads the task finds it on another machine with nothing on disk.
      rmSync(path.join(other, '.orch'), { recursive: true, force: true });
      const aggregated = await run(['--json', 'run', 'aggregate_results', '--input', JSON.stringify({ task_id: report.task_id })], other);
      expect(aggregated.code, aggregated.stderr).toBe(0);
      expect(aggregated.stdout).toContain('built-a');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('one process shares its connections between orchestrate calls, and nothing it leaves open keeps it up', async () => {
    project();
    await worker(['--concurrency', '2']);
    writeFileSync(path.join(dir, 'go'), '');
    const script = path.join(dir, 'calls.mjs');
    writeFileSync(
      script,
      `import { Redis } from ${JSON.stringify(pathToFileURL(path.join(root, 'node_modules', 'ioredis', 'built', 'index.js')).href)};
import { loadProject, orchestrate } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist', 'index.js')).href)};
const admin = new Redis(${JSON.stringify(redis.url)});
const clients = async () => Number(/total_connections_received:(\\d+)/.exec(await admin.info('stats'))[1]);
const { project } = await loadProject({ dir: ${JSON.stringify(dir)} });
const counts = [];
let last = await clients();
for (let i = 0; i < 3; i++) {
  const report = await orchestrate(project, { subtasks: [{ id: 'a', tool: 'shout', input: { text: 'x' + i } }] });
  if (report.status !== 'completed') throw new Error(report.status);
  const now = await clients();
  counts.push(now - last);
  last = now;
}
await new Promise((resolve) => {
  admin.once('end', resolve);
  admin.disconnect();
});
// Only unref'd handles may be left: the process ends by itself.
const held = process._getActiveHandles().filter((h) => h !== process.stdout && h !== process.stderr && h !== process.stdin && (h._handle?.hasRef?.() ?? h.hasRef?.() ?? true));
console.log(JSON.stringify({ counts, held: held.map((h) => h.constructor.name + ' ' + (h.remotePort ?? '') + ' ' + (h.localPort ?? '')) }));
`,
    );
    const child = spawn(process.execPath, [script], { cwd: dir, env: { ...process.env, ORCH_ENGINE: '' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, err).toBe(0);
    const { counts, held } = JSON.parse(out) as { counts: number[]; held: string[] };
    // The first call connects (and checks the engine); the next ones open no connection at
    // all: their sessions' relay streams are read by the process's one reader.
    expect(counts[0]).toBeGreaterThan(2);
    expect(counts.slice(1)).toEqual([0, 0]);
    expect(held).toEqual([]);
  });

  it('isolation: process on a queue worker: the job runs in a child process of the worker, kept for the next job and ended with it', async () => {
    project();
    const w = await worker(['--agent-type', 'sandboxed']);
    const subtasks = [{ id: 'a', tool: 'parent', input: {} }];
    const parents: number[] = [];
    for (let i = 0; i < 2; i++) {
      const done = await run(['--json', 'run', 'orchestrate', '--task', JSON.stringify({ subtasks })], dir);
      expect(done.code, done.stderr).toBe(0);
      parents.push(Number((JSON.parse(done.stdout) as { result: { a: string } }).result.a));
    }
    // The script's parent is neither the worker nor the submitting process: a child of the worker.
    expect(parents[0]).not.toBe(pidOf(w));
    expect(parents[1]).toBe(parents[0]);
    const ppid = Number(readFileSync(`/proc/${parents[0]}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(ppid).toBe(pidOf(w));
    w.child.kill('SIGTERM');
    expect((await w.done).code).toBe(0);
    expect(alive(parents[0]!)).toBe(false);
  });

  it('the kill switch across machines: orch stop --all elsewhere interrupts the run, refuses new ones; start --all lifts it, resume finishes', async () => {
    project();
    await worker();
    const other = mkdtempSync(path.join(tmpdir(), 'orch-queue-other-'));
    try {
      for (const f of ['gantz.yaml', 'agent-team.yaml']) writeFileSync(path.join(other, f), readFileSync(path.join(dir, f)));
      const running = start(['run', 'release'], dir);
      await until(() => started().includes('a'), 'the job to start');
      const stopped = await run(['stop', '--all'], other);
      expect(stopped.code, stopped.stdout + stopped.stderr).toBe(0);
      const ended = await running.done;
      expect(ended.code).toBe(143);
      expect(journal()).toContain('"run_interrupted"');
      // Refused on the first machine too, which has no kill switch of its own on.
      const refused = await run(['run', 'release'], dir);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("the queue engine's kill switch is on");
      expect((await run(['start', '--all'], other)).code).toBe(0);
      writeFileSync(path.join(dir, 'go'), '');
      const resumed = await run(['resume', runId()], dir);
      expect(resumed.code, resumed.stderr).toBe(0);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('orch scale sets the pool on the engine: 0 refuses runs before they start', async () => {
    project();
    const scaled = await run(['--json', 'scale', '--agent-type', 'loud', '--count', '0'], dir);
    expect(scaled.code, scaled.stderr).toBe(0);
    const refused = await run(['run', 'gated'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ORCH_POOL_EMPTY');
    expect(existsSync(path.join(dir, '.orch', 'runs')) ? readdirSync(path.join(dir, '.orch', 'runs')) : []).toEqual([]);
    expect((await run(['scale', '--agent-type', 'loud', '--count', '2'], dir)).code).toBe(0);
    const w = await worker(['--agent-type', 'loud', '--concurrency', '2']);
    const status = await run(['--json', 'status'], dir);
    const shown = JSON.parse(status.stdout) as { pools: { type: string; instances: number }[]; engine: { url: string; workers: { id: string; types: string[] }[] } };
    expect(shown.pools.find((p) => p.type === 'loud')?.instances).toBe(2);
    expect(shown.engine.url).toBe(redis.url);
    expect(shown.engine.workers.map((x) => x.types)).toEqual([['loud']]);
    expect(w.out()).toContain(shown.engine.workers[0]!.id);
    // orch deploy sizes the worker pools from the engine.
    const out = path.join(dir, 'k8s');
    expect((await run(['deploy', '--platform', 'kubernetes', '--out', out], dir)).code).toBe(0);
    const workersYaml = readFileSync(path.join(out, 'workers.yaml'), 'utf8');
    const loud = workersYaml.split('\n---').find((doc) => /- loud\b/.test(doc)) ?? '';
    expect(loud).toContain('replicas: 2');
  });

  it('Redis down at start: exit 2 naming the URL, and nothing written', async () => {
    project();
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    const done = await run(['--engine', url, 'run', 'release'], dir);
    expect(done.code).toBe(2);
    expect(done.stderr).toContain(`ORCH_ENGINE_UNREACHABLE cannot reach the engine at ${url}`);
    expect(done.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(dir, '.orch', 'runs')) ? readdirSync(path.join(dir, '.orch', 'runs')) : []).toEqual([]);
    const w = await run(['--engine', url, 'worker'], dir);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('ORCH_ENGINE_UNREACHABLE');
  });

  it('Redis gone while a worker waits: SIGTERM still ends it, exit 0, without a flood of warnings', async () => {
    project();
    const own = await startRedis(redisDir);
    const w = start(['--engine', own.url, 'worker', '--stall-interval', '1s'], dir);
    workers.push(w);
    await until(() => w.out().includes(' takes '), 'the worker to start');
    await own.stop();
    await new Promise((r) => setTimeout(r, 1500));
    w.child.kill('SIGTERM');
    const done = await w.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('stopped');
    expect(done.stderr.split('\n').filter((l) => l.includes('ECONNREFUSED')).length).toBeLessThanOrEqual(2);
  });

  it('no orphans: after a drained worker exits, nothing it started runs on', async () => {
    project();
    const w = await worker();
    writeFileSync(path.join(dir, 'go'), '');
    expect((await run(['run', 'release'], dir)).code).toBe(0);
    const pid = pidOf(w);
    w.child.kill('SIGTERM');
    expect((await w.done).code).toBe(0);
    expect(alive(pid)).toBe(false);
  });
});
