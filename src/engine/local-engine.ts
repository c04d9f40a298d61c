import { agentTypes, type AgentType } from '../agents/agent-types.js';
import { defaultInterceptors, type Interceptor } from '../agents/interceptors.js';
import { llmSettings, type CassetteSpec } from '../agents/llm-action.js';
import { secretsRedactor } from '../secrets/redact.js';
import type { InstanceReport } from '../agents/pool.js';
import { AgentStore } from '../agents/store.js';
import type { Project } from '../config/model.js';
import type { Logger, McpCaller } from '../tools/context.js';
import type { Engine, EngineSession, OpenRequest } from './engine.js';
import { InlineWorker } from './inline-worker.js';
import { acquire, acquireOne, release } from './leases.js';
import { initMessage, ProcessWorker } from './process-worker.js';
import { Slots } from './slots.js';
import type { Worker } from './worker.js';
import type { DelegationRequest, Performance, TeamServices } from '../agents/action.js';
import { instancesOf } from '../agents/pool.js';
import { OrchError } from '../errors.js';
import type { TaskOutcome, TaskSpec } from './task.js';

export interface LocalEngineOptions {
  project: Project;
  stateDir: string;
  /** The project's MCP servers, already supervised by the caller; inline tasks share them. */
  servers?: McpCaller;
  logger?: Logger;
  /** Environment secrets are read from, for the audit log's redaction; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Links around every tool call, outermost first; default: the audit log. */
  interceptors?: readonly Interceptor[];
  /** `--record` / `--replay` of LLM provider exchanges. */
  cassette?: CassetteSpec;
}

/**
 * The embedded engine: pools and leases in the agent registry on disk (shared by every
 * orch process of the project), tasks queued per agent type in this process, and run
 * inline or, for `isolation: process` types, in one child process per instance.
 */
export class LocalEngine implements Engine {
  readonly name = 'local';
  readonly store: AgentStore;
  readonly types: ReadonlyMap<string, AgentType>;
  private readonly inline: InlineWorker;

  constructor(private readonly options: LocalEngineOptions) {
    this.store = new AgentStore(options.stateDir);
    this.types = agentTypes(options.project);
    const env = options.env ?? process.env;
    this.inline = new InlineWorker({
      project: options.project,
      stateDir: options.stateDir,
      servers: options.servers,
      logger: options.logger,
      interceptors: options.interceptors ?? defaultInterceptors(options.stateDir, options.project.servers.values(), options.env),
      llm: llmSettings(options.cassette, env, secretsRedactor(env, options.project.servers.values())),
    });
  }

  async open(request: OpenRequest): Promise<EngineSession> {
    let leased: Map<string, string[]>;
    const [only] = request.wanted.keys();
    const type = only === undefined ? undefined : this.types.get(only);
    if (request.single && type) {
      const id = await acquireOne(this.store, type, { owner: request.owner, signal: request.signal, ...request.single });
      leased = new Map([[type.name, [id]]]);
    } else {
      leased = await acquire(this.store, this.types, request);
    }
    const processes = new Map<string, ProcessWorker>();
    const workerFor = (instance: { id: string; type: string }): Worker => {
      if (this.types.get(instance.type)?.isolation !== 'process') return this.inline;
      let worker = processes.get(instance.id);
      if (!worker) {
        worker = new ProcessWorker(instance.id, initMessage(this.options.project, this.options.stateDir, this.options.cassette));
        processes.set(instance.id, worker);
      }
      return worker;
    };
    const slots = new Slots(leased, workerFor, request.signal);
    slots.team = this.teamServices(slots, request.owner);
    return new LocalSession(slots, leased, async (reports) => {
      await Promise.all([...processes.values()].map((w) => w.stop()));
      await release(this.store, leased, reports);
    });
  }

  /**
   * Delegation and pool status for the actions a session runs. A delegated task runs on an
   * instance the session holds when it holds one of that type (queued behind its other
   * work); otherwise on one leased for it alone, waited for in the registry's queue when
   * all are busy. A cycle cannot wait on itself: an agent never delegates to one already
   * on its call chain.
   */
  private teamServices(slots: Slots, owner: string): TeamServices {
    const delegate = async (r: DelegationRequest): Promise<Performance> => {
      const spec: TaskSpec = {
        key: `${owner}:${r.delegation.via}`,
        agentType: r.role,
        action: r.action,
        input: r.input,
        ids: r.ids ?? {},
        step: { label: r.label, budget: r.budget },
        delegation: r.delegation,
        ...(r.carrier && { carrier: r.carrier }),
      };
      const hooks = { signal: r.signal, channel: r.channel };
      let outcome: TaskOutcome;
      if (slots.holds(r.role)) {
        outcome = await slots.submit(spec, hooks);
      } else {
        const session = await this.open({ owner, wanted: new Map([[r.role, 1]]), signal: r.signal, single: {} });
        try {
          outcome = await session.submit(spec, hooks);
        } finally {
          await session.close();
        }
      }
      if (outcome.ok) return { output: outcome.value, usage: outcome.usage };
      throw outcome.cause ?? new OrchError(outcome.error.code, outcome.error.message);
    };
    const status = async (role?: string): Promise<unknown> => {
      const registry = await this.store.read();
      const types = [...this.types.values()].filter((t) => role === undefined || t.name === role);
      if (role !== undefined && types.length === 0) throw new Error(`the team has no agent \`${role}\`; its agents are: ${[...this.types.keys()].join(', ')}`);
      return {
        agents: types.map((t) => {
          const instances = instancesOf(registry, t.name);
          const count = (status: string) => instances.filter((i) => i.status === status).length;
          // A pool nobody has used yet has its declared size, all of it available.
          return instances.length === 0 && registry.pools[t.name] === undefined
            ? { agent: t.name, instances: t.count, available: t.count, busy: 0, unhealthy: 0 }
            : { agent: t.name, instances: instances.length, available: count('available'), busy: count('busy'), unhealthy: count('unhealthy') };
        }),
      };
    };
    return { delegate, status };
  }
}

class LocalSession implements EngineSession {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly slots: Slots,
    private readonly held: ReadonlyMap<string, readonly string[]>,
    private readonly finish: (reports: InstanceReport[]) => Promise<void>,
  ) {}

  submit: EngineSession['submit'] = (task, hooks) => this.slots.submit(task, hooks);

  async capacity(agentType: string) {
    return this.slots.capacity(agentType);
  }

  async healthyAgents(agentType: string) {
    return this.slots.healthyAgents(agentType);
  }

  leased(): ReadonlyMap<string, readonly string[]> {
    return this.held;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.slots.close();
      await this.finish(this.slots.reports());
    })();
    return this.closing;
  }
}
