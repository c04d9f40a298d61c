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
    return new LocalSession(slots, leased, async (reports) => {
      await Promise.all([...processes.values()].map((w) => w.stop()));
      await release(this.store, leased, reports);
    });
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
