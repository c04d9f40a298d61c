import type { ActionChannel } from '../agents/action-channel.js';
import type { TeamServices } from '../agents/action.js';
import { perform, type Performance, type PerformContext } from '../agents/runtime.js';
import type { Instance, Worker } from './worker.js';
import type { TaskSpec } from './task.js';

/** Runs tasks in this process, through the agent runtime with the engine's servers and interceptors. */
export class InlineWorker implements Worker {
  constructor(private readonly ctx: Omit<PerformContext, 'signal' | 'ids' | 'step' | 'channel' | 'team' | 'delegation' | 'carrier'>) {}

  run(task: TaskSpec, instance: Instance, signal: AbortSignal, channel?: ActionChannel, team?: TeamServices): Promise<Performance> {
    return perform({ role: instance.type, instance: instance.id }, task.action, task.input, {
      ...this.ctx,
      signal,
      ids: task.ids,
      step: task.step,
      channel,
      team,
      delegation: task.delegation,
      carrier: task.carrier,
    });
  }

  async stop(): Promise<void> {
    // Nothing of its own to end: the servers belong to whoever started them.
  }
}
