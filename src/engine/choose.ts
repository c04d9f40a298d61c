import { LocalEngine, type LocalEngineOptions } from './local-engine.js';
import type { Engine, EngineSession, OpenRequest } from './engine.js';
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
}
