import type { ActionChannel } from '../agents/action-channel.js';
import type { TeamServices } from '../agents/action.js';
import type { Performance } from '../agents/runtime.js';
import type { TaskSpec } from './task.js';

/** The instance a task runs on. */
export interface Instance {
  id: string;
  type: string;
}

/**
 * Where an instance's tasks run, one at a time: in this process, in a child process of
 * its own, or (a queue engine) on a worker elsewhere. The engine picks one by the agent
 * type's `isolation`; the caller never knows which.
 */
export interface Worker {
  /** `team`: what the session lets the action do with the rest of the team (delegate, see the pools). */
  run(task: TaskSpec, instance: Instance, signal: AbortSignal, channel?: ActionChannel, team?: TeamServices): Promise<Performance>;
  /** Ends what the worker started; waits until it is gone. */
  stop(): Promise<void>;
}
