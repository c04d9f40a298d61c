import type { TaskError } from './executor.js';

/** Messages from the parent to a child-process worker. */
export type ParentMessage =
  | { type: 'init'; dir: string; config?: string; team?: string }
  | { type: 'run'; id: number; tool: string; input: Record<string, unknown> };

/** Messages from a child-process worker to its parent. */
export type WorkerMessage =
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: TaskError };
