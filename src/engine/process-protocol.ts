import type { Usage } from '../agents/runtime.js';
import type { TaskFailure, TaskSpec } from './task.js';

/** Messages from the parent to a child-process worker. */
export type ParentMessage =
  | { type: 'init'; dir: string; config?: string; team?: string; stateDir: string }
  | { type: 'run'; id: number; task: TaskSpec; instance: { id: string; type: string } };

/** Messages from a child-process worker to its parent. */
export type WorkerMessage =
  | { type: 'result'; id: number; ok: true; value: unknown; usage?: Usage }
  | { type: 'result'; id: number; ok: false; error: TaskFailure };
