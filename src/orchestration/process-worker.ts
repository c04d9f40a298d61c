/**
 * Entry point of a child-process worker (`isolation: process`): loads the project once,
 * then runs the tool calls its parent sends over IPC, one at a time. It exits when the
 * parent disconnects, so a parent that dies never leaves it behind.
 */
import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { invokeTool } from '../tools/invoke.js';
import { taskError } from './executor.js';
import type { ParentMessage, WorkerMessage } from './process-protocol.js';

let project: Promise<Project> | undefined;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'init':
      project = loadProject({ dir: message.dir, config: message.config, team: message.team }).then((r) => r.project);
      return;
    case 'run': {
      const loaded = project;
      if (!loaded) {
        send({ type: 'result', id: message.id, ok: false, error: { code: 'ORCH_WORKER_DIED', message: 'worker got a task before its project' } });
        return;
      }
      loaded
        .then((p) => invokeTool(p, message.tool, message.input))
        .then(
          (result) => send({ type: 'result', id: message.id, ok: true, value: result.value ?? null }),
          (err: unknown) => send({ type: 'result', id: message.id, ok: false, error: taskError(err) }),
        );
      return;
    }
    default: {
      const unknown: never = message;
      throw new Error(`unknown message ${JSON.stringify(unknown)}`);
    }
  }
});

process.on('disconnect', () => process.exit(0));
