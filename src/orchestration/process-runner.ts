import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Project } from '../config/model.js';
import { OrchError } from '../errors.js';
import type { TaskRunner } from './executor.js';
import type { ParentMessage, WorkerMessage } from './process-protocol.js';

const GRACE_MS = 2000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** One child process per agent instance; this class is the only owner of each child. */
class ProcessWorker {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly agentId: string, private readonly init: ParentMessage) {}

  run(tool: string, input: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const child = this.child ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Cancelling a task means stopping its worker: a tool call cannot be interrupted inside it.
      const onAbort = () => void this.stop();
      signal.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => signal.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve: (v) => (cleanup(), resolve(v)), reject: (e) => (cleanup(), reject(e)) });
      const message: ParentMessage = { type: 'run', id, tool, input };
      child.send(message);
    });
  }

  private spawn(): ChildProcess {
    const { file, execArgv } = workerEntry();
    const child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' });
    child.on('message', (message: WorkerMessage) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.value);
      else waiting?.reject(new OrchError(message.error.code, message.error.message, { exitCode: 1 }));
    });
    child.on('exit', (code, sig) => {
      if (this.child === child) this.child = undefined;
      const reason = `the worker process of ${this.agentId} exited (${sig ?? `code ${code ?? '?'}`}) while running it`;
      for (const waiting of this.pending.values()) waiting.reject(new OrchError('ORCH_WORKER_DIED', reason, { exitCode: 1 }));
      this.pending.clear();
    });
    child.send(this.init);
    this.child = child;
    return child;
  }

  /** Disconnect (the worker exits by itself) → wait → SIGTERM → wait → SIGKILL. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (child.connected) child.disconnect();
    if (await within(GRACE_MS)) return;
    child.kill('SIGTERM');
    if (await within(GRACE_MS)) return;
    child.kill('SIGKILL');
    await exited;
  }
}

/** The worker entry: the built file, or the TypeScript source through tsx under tests. */
function workerEntry(): { file: string; execArgv: string[] } {
  const own = fileURLToPath(import.meta.url);
  if (own.endsWith('.ts')) {
    return { file: fileURLToPath(new URL('./process-worker.ts', import.meta.url)), execArgv: ['--import', import.meta.resolve('tsx')] };
  }
  return { file: fileURLToPath(new URL('./process-worker.js', import.meta.url)), execArgv: [] };
}

/** Runs the tasks of `isolation: process` agent types in child processes, one per instance. */
export class ProcessRunners {
  private readonly workers = new Map<string, ProcessWorker>();
  private readonly init: ParentMessage;

  constructor(project: Project) {
    this.init = { type: 'init', dir: project.dir, config: project.files.gantz, team: project.files.team };
  }

  readonly runner: TaskRunner = (agent, tool, input, signal) => {
    let worker = this.workers.get(agent.id);
    if (!worker) {
      worker = new ProcessWorker(agent.id, this.init);
      this.workers.set(agent.id, worker);
    }
    return worker.run(tool, input, signal);
  };

  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
  }
}
