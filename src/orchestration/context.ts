import { agentTypes, type AgentType } from '../agents/agent-types.js';
import { AgentStore } from '../agents/store.js';
import type { Project } from '../config/model.js';
import { secretsRedactor } from '../secrets/redact.js';
import { ChosenEngine, taskShare } from '../engine/choose.js';
import type { Engine } from '../engine/engine.js';
import type { HandlerContext } from '../tools/module.js';
import { TaskStore } from './task-store.js';

/** What every orchestration tool works with, built from the handler context. */
export interface Orchestration {
  project: Project;
  types: ReadonlyMap<string, AgentType>;
  agents: AgentStore;
  tasks: TaskStore;
  /** Schedules subtasks on the pools; the same engine workflow steps run on. */
  engine: Engine;
}

/**
 * From a handler's context, or from a loaded project and its state dir (CLI commands).
 * Task files are redacted of the secrets of orch's environment and of the servers.
 */
export function orchestration(ctx: Pick<HandlerContext, 'project' | 'stateDir'> & Partial<Pick<HandlerContext, 'mcp' | 'logger' | 'cassette'>>): Orchestration {
  let engine: Engine | undefined;
  return {
    // Built on first use: status and scale read the registry and never schedule anything.
    get engine() {
      engine ??= new ChosenEngine({ project: ctx.project, stateDir: ctx.stateDir, servers: ctx.mcp, logger: ctx.logger, cassette: ctx.cassette });
      return engine;
    },
    project: ctx.project,
    types: agentTypes(ctx.project),
    agents: new AgentStore(ctx.stateDir),
    tasks: new TaskStore(ctx.stateDir, secretsRedactor(process.env, ctx.project.servers.values()), taskShare(ctx.project, ctx.stateDir)),
  };
}
