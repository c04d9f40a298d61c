import { defaultInterceptors } from '../agents/interceptors.js';
import { perform } from '../agents/runtime.js';
import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { Supervisor } from '../mcp/supervisor.js';
import type { ParentMessage, WorkerMessage } from './process-protocol.js';
import { toFailure } from './task.js';

/** The IPC channel of a child-process worker (`process` in the child). */
export interface Channel {
  send?(message: WorkerMessage): unknown;
  on(event: 'message', listener: (message: ParentMessage) => void): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

interface Loaded {
  project: Project;
  stateDir: string;
  supervisor?: Supervisor;
}

/**
 * The child side of a process worker: loads the project once, starts the project's MCP
 * servers when a task first needs one, and runs each task through the agent runtime as
 * an inline worker would. Resolves once the parent has disconnected and every server
 * this worker started is gone; the entry point then exits.
 */
export function hostWorker(channel: Channel): Promise<void> {
  let loaded: Promise<Loaded> | undefined;
  const controller = new AbortController();
  const send = (message: WorkerMessage) => channel.send?.(message);

  channel.on('message', (message) => {
    switch (message.type) {
      case 'init':
        loaded = loadProject({ dir: message.dir, config: message.config, team: message.team }).then(({ project }) => ({
          project,
          stateDir: message.stateDir,
          supervisor: project.servers.size > 0 ? new Supervisor(project.servers.values(), { stateDir: message.stateDir }) : undefined,
        }));
        return;
      case 'run': {
        const { id, task, instance } = message;
        if (!loaded) {
          send({ type: 'result', id, ok: false, error: { code: 'ORCH_WORKER_DIED', message: 'worker got a task before its project', retryable: true } });
          return;
        }
        loaded
          .then(({ project, stateDir, supervisor }) => {
            return perform({ role: instance.type, instance: instance.id }, task.action, task.input, {
              project,
              stateDir,
              servers: supervisor,
              signal: controller.signal,
              ids: task.ids,
              interceptors: defaultInterceptors(stateDir, project.servers.values()),
            });
          })
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
      void (loaded ?? Promise.resolve(undefined))
        .then((l) => l?.supervisor?.shutdown())
        .catch(() => undefined)
        .finally(resolve);
    });
  });
}
