import { ExitCode, OrchError } from '../errors.js';
import type { Coordination } from '../config/model.js';
import { COORDINATIONS } from './coordination.js';
import { readPolicy, type FailurePolicy } from './failure-policy.js';

/** A subtask as the caller wrote it, checked for shape; types are resolved by the pattern. */
export interface SubtaskSpec {
  id: string;
  agentType?: string;
  tool?: string;
  input: Record<string, unknown>;
  dependsOn: string[];
  /** Hierarchical: the subtasks this one delegates; it runs after them, if it has a tool. */
  subtasks: SubtaskSpec[];
  /** Hierarchical: the agent type a manager's subtasks go to by default. */
  delegateTo?: string;
}

/** What `orchestrate` was asked to do. */
export interface TaskSpec {
  subtasks: SubtaskSpec[];
  coordination?: Coordination;
  policy?: Partial<FailurePolicy>;
  /** Fan-out/fan-in: the subtask that receives every result. */
  fanIn?: SubtaskSpec;
  /** Pipeline: the parameter each stage receives the previous output in. */
  pipeParam: string;
  /** Master-worker: the agent type whose instances drain the queue. */
  agentType?: string;
  /** Peer-to-peer and swarm: the most rounds to run (default 3 and 5). */
  maxRounds?: number;
  /** Swarm: how many members each subtask becomes (default: its pool's size). */
  swarmSize?: number;
}

export function taskError(message: string, hint?: string): OrchError {
  return new OrchError('ORCH_TASK', message, { hint, exitCode: ExitCode.usage });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `task` (the tool's input) into a TaskSpec, or says exactly what is wrong. */
export function readTask(task: unknown): TaskSpec {
  if (!isObject(task)) throw taskError('`task` must be an object');
  if (!Array.isArray(task.subtasks) || task.subtasks.length === 0) {
    throw taskError('`task.subtasks` must be a non-empty list', 'each subtask: {"id": "a", "tool": "<tool>", "input": {...}, "depends_on": ["..."]}; decomposition by an LLM needs an orchestrator agent with a model');
  }
  const seen = new Set<string>();
  const subtasks = task.subtasks.map((s, i) => readSubtask(s, `task.subtasks[${i}]`, seen));
  const coordination = optionalString(task.coordination ?? task.pattern, 'task.coordination');
  if (coordination !== undefined && !isCoordination(coordination)) {
    throw taskError(`task.coordination \`${coordination}\` is not a coordination pattern`, `one of: ${COORDINATIONS.join(', ')}`);
  }
  return {
    subtasks,
    coordination,
    policy: task.failure_policy === undefined ? undefined : readPolicy(task.failure_policy),
    fanIn: task.fan_in === undefined ? undefined : readSubtask({ id: 'fan_in', ...(isObject(task.fan_in) ? task.fan_in : {}) }, 'task.fan_in', seen),
    pipeParam: optionalString(task.pipe_param, 'task.pipe_param') ?? 'input',
    agentType: optionalString(task.agent_type, 'task.agent_type'),
    maxRounds: optionalCount(task.max_rounds, 'task.max_rounds', 100),
    swarmSize: optionalCount(task.swarm_size, 'task.swarm_size', 1000),
  };
}

function optionalCount(value: unknown, at: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw taskError(`${at} must be a whole number from 1 to ${max}`);
  return value;
}

function isCoordination(value: string): value is Coordination {
  return (COORDINATIONS as readonly string[]).includes(value);
}

function readSubtask(raw: unknown, at: string, seen: Set<string>): SubtaskSpec {
  if (!isObject(raw)) throw taskError(`${at} must be an object`);
  const id = optionalString(raw.id, `${at}.id`) ?? at.replace(/^task\./, '');
  if (seen.has(id)) throw taskError(`${at}: subtask id \`${id}\` is used twice`, 'give each subtask a unique `id`');
  seen.add(id);
  const children = raw.subtasks === undefined ? [] : raw.subtasks;
  if (!Array.isArray(children)) throw taskError(`${at}.subtasks must be a list`);
  const tool = optionalString(raw.tool ?? raw.action, `${at}.tool`);
  if (tool === undefined && children.length === 0) throw taskError(`${at} (\`${id}\`) names no \`tool\``, 'each subtask runs a tool: {"id": "...", "tool": "<tool>", "input": {...}}');
  const input = raw.input ?? {};
  if (!isObject(input)) throw taskError(`${at}.input must be an object of the tool's parameters`);
  const deps = raw.depends_on ?? [];
  if (!Array.isArray(deps) || !deps.every((d): d is string => typeof d === 'string')) throw taskError(`${at}.depends_on must be a list of subtask ids`);
  return {
    id,
    agentType: optionalString(raw.agent_type, `${at}.agent_type`),
    tool,
    input,
    dependsOn: deps,
    subtasks: children.map((c, i) => readSubtask(c, `${at}.subtasks[${i}]`, seen)),
    delegateTo: optionalString(raw.delegate_to, `${at}.delegate_to`),
  };
}

function optionalString(value: unknown, at: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw taskError(`${at} must be a non-empty string`);
  return value;
}
