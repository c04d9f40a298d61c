import type { Project } from '../config/model.js';
import type { Cassette, CassetteSpec } from '../llm/cassette.js';
import type { CallOptions, Logger, McpCallResult, McpCaller } from '../tools/context.js';
import type { ActionChannel } from './action-channel.js';
import type { Budget } from './budget.js';
import type { CallIds, Interceptor } from './interceptors.js';

/** Tokens and money one action used; LLM actions report it, tool calls use none. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cost_usd?: number;
}

/** What `perform` gives back: the action's output, and what it used. */
export interface Performance {
  output: unknown;
  usage?: Usage;
}

/** The MCP servers as an agent addresses their tools: `server.tool`, or a bare name unique among them. */
export interface ServerTools extends McpCaller {
  call(name: string, args: Record<string, unknown>, request: CallOptions): Promise<McpCallResult>;
}

/** Everything an action may use besides its input. */
export interface PerformContext {
  project: Project;
  stateDir: string;
  signal: AbortSignal;
  logger?: Logger;
  /** The project's MCP servers; absent where none are configured. */
  servers?: ServerTools;
  /** Which run, step, task and instance the work belongs to, for audit lines. */
  ids?: Omit<CallIds, 'agent' | 'instance'>;
  /** Links around every tool call, outermost first (audit, redaction, budgets, tracing). */
  interceptors: readonly Interceptor[];
  /** Providers, keys and the cassette, for actions an agent's model carries out. */
  llm?: LlmSettings;
  /** What the workflow step asks beyond the input: the needed steps' outputs, budget, output schema. */
  step?: StepContext;
  /** The run's journal and approvers, for actions of several turns; absent outside a workflow run. */
  channel?: ActionChannel;
  /** What the engine running the action lets it do with the rest of the team (the built-in agent tools). */
  team?: TeamServices;
  /** Set when the action is a run another agent delegated: the call it serves, and the agents above it. */
  delegation?: DelegationContext;
  /** Trace context of the work that sent the task (the task's `carrier`), possibly from another process. */
  carrier?: Record<string, string>;
  /** A direct tool call's progress notifications (an MCP server's), for a caller that relays them. */
  onProgress?: CallOptions['onProgress'];
}

/** Where a delegated run sits: the `dispatch_to_agent` call it serves, and the roles on the chain above it, outermost first. */
export interface DelegationContext {
  via: string;
  chain: readonly string[];
}

/** Another agent of the team asked to carry out a task (`dispatch_to_agent`). */
export interface DelegationRequest {
  role: string;
  action: string;
  input: Record<string, unknown>;
  delegation: DelegationContext;
  /** Labels the delegated run in errors and replay misses. */
  label: string;
  /** What is left of the caller's budget: the delegated run spends from it. */
  budget?: Budget;
  ids?: PerformContext['ids'];
  channel?: ActionChannel;
  signal: AbortSignal;
  /** Trace context of the delegating call, so the delegated run is its child. */
  carrier?: Record<string, string>;
}

/** The team around an action, as the engine provides it. */
export interface TeamServices {
  /** Runs the task on an instance of the role's pool (one of the run's own when it holds one) and gives back its result. */
  delegate(request: DelegationRequest): Promise<Performance>;
  /** Pool and instance status, of one role or of all. */
  status(role?: string): Promise<unknown>;
}

/** The agent performing an action: its role (the agent type) and, when leased, the instance. */
export interface Performer {
  role: string;
  instance?: string;
}

/** How LLM actions of a run reach their providers: the environment the keys come from, and a cassette for `--record`/`--replay`. */
export interface LlmSettings {
  env: NodeJS.ProcessEnv;
  cassette?: Cassette;
  /** `--replay`: no provider is called, so no key is needed. */
  replaying: boolean;
  /** The flags the cassette came from, for built-in handlers that run agents of their own (orchestrate). */
  spec?: CassetteSpec;
}

export type { CassetteSpec } from '../llm/cassette.js';

/** What the step asks of an LLM action beyond its input. */
export interface StepContext {
  /** Names the step in errors and replay misses, e.g. `step review`. */
  label: string;
  /** The outputs of the steps this one needs, by step id. */
  needs?: Record<string, unknown>;
  budget?: Budget;
  outputSchema?: Record<string, unknown>;
}

