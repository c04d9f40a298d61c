import { LocalEngine, type LocalEngineOptions } from './local-engine.js';
import type { Engine, EngineSession, OpenRequest, TaskShare } from './engine.js';
import type { Project } from '../config/model.js';
import type { SharedRuns } from './redis/shared-runs.js';
import { engineTarget } from './redis/target.js';

/**
 * The engine a project schedules on: the queue engine when `--engine`, ORCH_ENGINE or
 * agent-team.yaml names one, else the embedded local engine. BullMQ and the Redis client
 * are loaded only for the queue engine. The choice (and a bad URL) is made on first use.
 */
export class ChosenEngine implements Engine {
  private chosen: Promise<Engine> | undefined;

  constructor(private readonly options: LocalEngineOptions) {}

  get name(): string {
    return engineTarget(this.options.project, this.options.env) ? 'redis' : 'local';
  }

  engine(): Promise<Engine> {
    this.chosen ??= (async () => {
      const target = engineTarget(this.options.project, this.options.env);
      if (!target) return new LocalEngine(this.options);
      const { RedisEngine } = await import('./redis/redis-engine.js');
      return new RedisEngine({ project: this.options.project, target, logger: this.options.logger });
    })();
    return this.chosen;
  }

  async prepare(types: Iterable<string>): Promise<void> {
    return (await this.engine()).prepare(types);
  }

  async open(request: OpenRequest): Promise<EngineSession> {
    return (await this.engine()).open(request);
  }

  async instances(): Promise<{ id: string; type: string }[]> {
    const engine = await this.engine();
    return engine.instances ? engine.instances() : [];
  }
}

/** The queue engine's shared runs when the project schedules on one; the caller closes it. */
export async function sharedRuns(project: Project, stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SharedRuns | undefined> {
  const target = engineTarget(project, env);
  if (!target) return undefined;
  const { SharedRuns } = await import('./redis/shared-runs.js');
  return new SharedRuns(target, stateDir);
}

/** Before a command reads runs: this machine's copies brought up to date from the queue engine, if there is one. */
export async function pullRuns(project: Project, stateDir: string, only?: string): Promise<void> {
  const shared = await sharedRuns(project, stateDir);
  try {
    await shared?.pull(only);
  } finally {
    shared?.close();
  }
}

/**
 * Where orchestration tasks are shared when the project schedules on a queue engine; the
 * Redis client loads on first use.
 */
export function taskShare(project: Project, stateDir: string, env: NodeJS.ProcessEnv = process.env): TaskShare | undefined {
  const target = engineTarget(project, env);
  if (!target) return undefined;
  let shared: Promise<TaskShare> | undefined;
  const get = () => (shared ??= import('./redis/shared-tasks.js').then(({ SharedTasks }) => new SharedTasks(target, stateDir)));
  return {
    append: async (taskId, lines) => (await get()).append(taskId, lines),
    save: async (taskId, file, text) => (await get()).save(taskId, file, text),
    fetch: async (taskId) => (await get()).fetch(taskId),
  };
}
