import type { AgentType } from '../../agents/agent-types.js';
import type { Project } from '../../config/model.js';
import { byModel, type Subtask } from '../plan.js';
import type { Execute, SubtaskResult } from '../run-graph.js';
import type { TaskSpec } from '../task-spec.js';

/** How loaded each pool is now, for patterns that place work by load (auction). */
export interface PoolLoad {
  instances: number;
  busy: number;
}

export interface PatternContext {
  project: Project;
  types: ReadonlyMap<string, AgentType>;
  load(agentType: string): PoolLoad;
}

/** A coordination pattern's plan for one task, with the hooks it needs while running. */
export interface Prepared {
  subtasks: Subtask[];
  /** Wraps each attempt (blackboard reads and commits around it). */
  wrap?: (execute: Execute) => Execute;
  /** The combined result and any pattern detail for the report. */
  combine(results: ReadonlyMap<string, SubtaskResult>): { result: unknown; details?: Record<string, unknown> };
}

export type Pattern = (spec: TaskSpec, ctx: PatternContext) => Prepared;

/** A parameter the tool declares, so an injected value passes its input schema. */
export function declaresParam(project: Project, tool: string | undefined, param: string): boolean {
  return tool !== undefined && (project.tools.get(tool)?.params.some((p) => p.name === param) ?? false);
}

/**
 * Whether a value the pattern hands a member (the board, the peers' messages, the results
 * before it) reaches it as `param`: its tool declares the parameter, or its agent's model
 * carries out the action and reads its whole input.
 */
export function takesParam(project: Project, subtask: Pick<Subtask, 'agentType' | 'tool'>, param: string): boolean {
  return declaresParam(project, subtask.tool, param) || byModel(project, subtask.agentType, subtask.tool);
}
