import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ActionChannel } from '../agents/action-channel.js';
import type { CassetteSpec } from '../agents/llm-action.js';
import type { Performance } from '../agents/runtime.js';
import type { Project } from '../config/model.js';
import type { ErrorCode } from '../error-codes.js';
import { OrchError } from '../errors.js';
import type { ParentMessage, WorkerMessage } from './process-protocol.js';
import { stopChild } from '../process/stop.js';
import { packagePath } from '../util/package-root.js';
import type { Instance, Worker } from './worker.js';
import type { TaskSpec } from './task.js';
import { answerRequest, type ReplyBody } from './relay.js';
import type { TeamServices } from '../agents/action.js';

const GRACE_MS = 2000;

interface Pending {
  resolve: (value: Performance) => void;
  reject: (err: Error) => void;
  channel?: ActionChannel;
  team?: TeamServices;
  signal: AbortSignal;
}

/**
 * One child process for one agent instance (`isolation: process`), started on its first
 * task; this class is the only owner of the child. The child runs the same agent runtime
 * with MCP servers of its own, so every kind of action works there as it does inline.
 */
export class ProcessWorker implements Worker {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly instanceId: string,
    private readonly init: ParentMessage,
  ) {}

  run(task: TaskSpec, instance: Instance, signal: AbortSignal, channel?: ActionChannel, team?: TeamServices): Promise<Performance> {
    const child = this.child ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Cancelling a task means stopping its worker: a call cannot be interrupted inside it.
      const onAbort = () => void this.stop();
      signal.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => signal.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve: (v) => (cleanup(), resolve(v)), reject: (e) => (cleanup(), reject(e)), channel, team, signal });
      const snapshot = channel ? { history: [...channel.history], runUsage: channel.runUsage() } : undefined;
      const message: ParentMessage = { type: 'run', id, task, instance, channel: snapshot, ...(team && { team: true }) };
      child.send(message);
    });
  }

  private spawn(): ChildProcess {
    const { file, execArgv } = workerEntry();
    const child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' });
    child.on('message', (message: WorkerMessage) => {
      const waiting = this.pending.get(message.id);
      if (message.type !== 'result') return answerRequest(message, waiting, replier(child, message));
      this.pending.delete(message.id);
      if (message.ok) waiting?.resolve({ output: message.value, usage: message.usage });
      else waiting?.reject(new WorkerTaskError(message.error.code, message.error.message));
    });
    child.on('exit', (code, sig) => {
      if (this.child === child) this.child = undefined;
      const reason = `the worker process of ${this.instanceId} exited (${sig ?? `code ${code ?? '?'}`}) while running it`;
      for (const waiting of this.pending.values()) waiting.reject(new OrchError('ORCH_WORKER_DIED', reason, { exitCode: 1 }));
      this.pending.clear();
    });
    child.send(this.init);
    this.child = child;
    return child;
  }

  /** Disconnect (the worker ends its servers and exits) → wait → SIGTERM → wait → SIGKILL: the one stop sequence. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child) await stopChild(child, { graceMs: GRACE_MS, termMs: GRACE_MS });
  }
}

/** Answers one of a worker's requests, while the worker is still there to hear it. */
function replier(child: ChildProcess, message: { id: number; seq: number }): (body: ReplyBody) => void {
  return (body) => {
    if (child.connected) child.send({ type: 'reply', id: message.id, seq: message.seq, ...body } satisfies ParentMessage);
  };
}

/** A failure reported by a child worker, keeping the code it had there. */
class WorkerTaskError extends OrchError {
  constructor(code: ErrorCode, message: string) {
    // The registry's exit code, as the same error thrown inline would have.
    super(code, message);
  }
}

/** The first message a child worker gets: where the project is. */
export function initMessage(project: Project, stateDir: string, cassette?: CassetteSpec): ParentMessage {
  return { type: 'init', dir: project.dir, config: project.files.gantz, team: project.files.team, stateDir, cassette };
}

/** The worker entry: the built CLI's (its bundle, as the bin's), or the TypeScript source through tsx under tests. */
function workerEntry(): { file: string; execArgv: string[] } {
  if (fileURLToPath(import.meta.url).endsWith('.ts')) {
    return { file: packagePath('src', 'cli', 'worker-main.ts'), execArgv: ['--import', import.meta.resolve('tsx')] };
  }
  return { file: packagePath('dist', 'bundle', 'worker-main.js'), execArgv: [] };
}
