import { defaultInterceptors, type Interceptor } from '../agents/interceptors.js';
import { llmSettings, type CassetteSpec, type LlmSettings } from '../agents/llm-action.js';
import { perform } from '../agents/runtime.js';
import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { OrchError } from '../errors.js';
import { Supervisor } from '../mcp/supervisor.js';
import { secretsRedactor } from '../secrets/redact.js';
import type { ParentMessage, WorkerMessage } from './process-protocol.js';
import { relayedChannel, relayedTeam, type Ask, type Reply } from './relay.js';
import { toFailure } from './task.js';

/** The IPC channel of a child-process worker (`process` in the child). */
export interface Channel {
  send?(message: WorkerMessage): unknown;
  on(event: 'message', listener: (message: ParentMessage) => void): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

/** What a worker runs every task with: the project, its servers, LLM settings and tool-call links. */
export interface WorkerRuntime {
  project: Project;
  stateDir: string;
  supervisor?: Supervisor;
  llm: LlmSettings;
  interceptors: Interceptor[];
}

type Waiting = { resolve: (reply: Reply) => void; reject: (err: Error) => void };

/** A worker's own MCP servers (started when a task first needs one), LLM settings and audit log, for a loaded project. */
export function workerRuntime(project: Project, stateDir: string, cassette?: CassetteSpec): WorkerRuntime {
  return {
    project,
    stateDir,
    supervisor: project.servers.size > 0 ? new Supervisor(project.servers.values(), { stateDir }) : undefined,
    llm: llmSettings(cassette, process.env, secretsRedactor(process.env, project.servers.values())),
    interceptors: defaultInterceptors(stateDir, project.servers.values()),
  };
}

/**
 * The child side of a process worker: loads the project once, starts the project's MCP
 * servers when a task first needs one, and runs each task through the agent runtime as
 * an inline worker would — its journal writes and approval questions relayed to the
 * parent, which owns the run. Resolves once the parent has disconnected and every server
 * this worker started is gone; the entry point then exits.
 */
export function hostWorker(channel: Channel): Promise<void> {
  let loaded: Promise<WorkerRuntime> | undefined;
  const controller = new AbortController();
  const send = (message: WorkerMessage) => channel.send?.(message);
  const waiting = new Map<number, Waiting>();
  let seq = 0;
  const ask: Ask = (message) =>
    new Promise<Reply>((resolve, reject) => {
      const n = ++seq;
      waiting.set(n, { resolve, reject });
      send({ ...message, seq: n } as WorkerMessage);
    });

  channel.on('message', (message) => {
    switch (message.type) {
      case 'init':
        loaded = loadProject({ dir: message.dir, config: message.config, team: message.team }).then(({ project }) =>
          workerRuntime(project, message.stateDir, message.cassette),
        );
        return;
      case 'reply': {
        const w = waiting.get(message.seq);
        waiting.delete(message.seq);
        if (message.error !== undefined) w?.reject(new OrchError('ORCH_WORKER_DIED', `the run could not take a worker's message: ${message.error}`));
        else w?.resolve(message);
        return;
      }
      case 'run': {
        const { id, task, instance } = message;
        if (!loaded) {
          send({ type: 'result', id, ok: false, error: { code: 'ORCH_WORKER_DIED', message: 'worker got a task before its project', retryable: true } });
          return;
        }
        loaded
          .then(({ project, stateDir, supervisor, llm, interceptors }) =>
            perform({ role: instance.type, instance: instance.id }, task.action, task.input, {
              project,
              stateDir,
              servers: supervisor,
              signal: controller.signal,
              ids: task.ids,
              interceptors,
              llm,
              step: task.step,
              channel: message.channel ? relayedChannel(ask, id, message.channel) : undefined,
              ...(message.team && { team: relayedTeam(ask, id) }),
              ...(task.delegation && { delegation: task.delegation }),
              ...(task.carrier && { carrier: task.carrier }),
            }),
          )
          .then(
            (done) => send({ type: 'result', id, ok: true, value: done.output ?? null, usage: done.usage }),
            (err: unknown) => send({ type: 'result', id, ok: false, error: toFailure(err) }),
          );
        return;
      }
      default: {
        const unknown: never = message;
        throw new Error(`unknown message ${JSON.stringify(unknown)}`);
      }
    }
  });

  return new Promise((resolve) => {
    channel.once('disconnect', () => {
      controller.abort('disconnected');
      for (const w of waiting.values()) w.reject(new OrchError('ORCH_CANCELLED', 'the run ended'));
      void (loaded ?? Promise.resolve(undefined))
        .then((l) => l?.supervisor?.shutdown())
        .catch(() => undefined)
        .finally(resolve);
    });
  });
}
