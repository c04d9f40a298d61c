import type { Project } from '../config/model.js';
import type { Cassette } from '../llm/cassette.js';
import type { Logger, McpCallResult, McpCaller } from '../tools/context.js';
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
  call(name: string, args: Record<string, unknown>, request: { signal?: AbortSignal; audited?: boolean }): Promise<McpCallResult>;
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
}

/** `--record <dir>` / `--replay <dir>`, as data that a child-process worker can be sent too. */
export interface CassetteSpec {
  record?: string;
  replay?: string;
}

/** What the step asks of an LLM action beyond its input. */
export interface StepContext {
  /** Names the step in errors and replay misses, e.g. `step review`. */
  label: string;
  /** The outputs of the steps this one needs, by step id. */
  needs?: Record<string, unknown>;
  budget?: Budget;
  outputSchema?: Record<string, unknown>;
}

