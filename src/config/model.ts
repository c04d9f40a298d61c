import type { Issue } from '../errors.js';

/**
 * The normalised project model: what every command works on once the user's files have
 * been read, validated and expanded. Both gantz.yaml dialects, agent-team.yaml and
 * `mcpServers` from any file end up here.
 */

/** Where an item was declared: a file and the key path to it inside that file. */
export interface Origin {
  file: string;
  /** Key path segments from the document root, e.g. ['workflows', 'deploy', 2]. */
  path: (string | number)[];
}

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** A JSON Schema object as used for tool input (kept loose: it is passed to ajv and MCP). */
export type JsonSchema = { [key: string]: unknown };

export interface ParamDef {
  name: string;
  type: JsonType;
  description?: string;
  required: boolean;
  default?: unknown;
  /** The parameter's own JSON Schema (type, enum, items, bounds...). */
  schema: JsonSchema;
}

export interface ScriptHandler {
  kind: 'script';
  /** A `sh -c` string; `{{param}}` placeholders are never re-parsed by the shell. */
  shell?: string;
  /** Program run directly, never through a shell. */
  command?: string;
  args: string[];
  workingDir?: string;
  timeoutMs?: number;
}

export interface HttpHandler {
  kind: 'http';
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** Dot path into the JSON response, e.g. `data.items[0].name`. */
  extractJson?: string;
}

export interface ModuleHandler {
  kind: 'module';
  /** Module name: `handlers/<module>.{ts,js,mjs,py}` beside the config, or a built-in namespace. */
  module: string;
  fn: string;
  /** Absolute path of the user module when one exists; undefined for a built-in namespace. */
  file?: string;
}

export interface McpHandler {
  kind: 'mcp';
  server: string;
  tool: string;
}

export type ToolHandler = ScriptHandler | HttpHandler | ModuleHandler | McpHandler;

export interface ToolDef {
  name: string;
  description: string;
  params: ParamDef[];
  /** JSON Schema of the tool's input object, built from `params`. */
  inputSchema: JsonSchema;
  handler: ToolHandler;
  /** Extra environment for script tools. */
  environment: Record<string, string>;
  dialect: 'map' | 'list';
  /** Changes what is hard to undo: an agent with `approval: destructive` needs approval for its model's calls of it. */
  destructive?: boolean;
  /** Only reads, changes nothing (`read_only: true`; MCP's `readOnlyHint`). */
  readOnly?: true;
  /** `false`: a job of it whose queue worker died is failed, not run again. */
  idempotent?: false;
  /** One of orch's built-in tools (BUILTIN_TOOLS) that the project does not declare itself. */
  builtin?: true;
  origin: Origin;
}

export interface RateLimit {
  calls: number;
  perMs: number;
}

/** How orch speaks to a server: a child process, Streamable HTTP, or the legacy HTTP+SSE transport. */
export type ServerTransport = 'stdio' | 'http' | 'sse';

export interface McpServerDef {
  name: string;
  transport: ServerTransport;
  command?: string;
  args: string[];
  /** Declared env only; the supervisor adds the minimal base environment. */
  env: Record<string, string>;
  cwd?: string;
  url?: string;
  headers: Record<string, string>;
  startupTimeoutMs: number;
  toolTimeoutMs?: number;
  rateLimit?: RateLimit;
  /** Tools (bare names) whose calls through `orch serve --expose` a person approves. */
  approvalRequired?: string[];
  /**
   * Errors in this server's declaration (an unset variable, a bad field). They matter only
   * when the server is needed: starting it fails with them, `orch validate` reports them,
   * and commands that never start it are not held up.
   */
  problems?: Issue[];
  origin: Origin;
}

/** A server declared with `disabled: true`: never started, and named only to say so. */
export interface DisabledServer {
  name: string;
  origin: Origin;
}

export type GateType = 'approval_required' | 'tests_must_pass';

export interface GateDef {
  type: GateType;
  /** `before` asks before the step runs (destructive actions); `after` shows its output. */
  when: 'before' | 'after';
}

export interface RetryDef {
  max: number;
  /** First delay between attempts; doubled after each failure. */
  backoffMs: number;
}

export type OnFailure = 'abort' | 'continue' | 'retry' | 'reassign';

/** Limits on LLM actions (`budget:` of a team, an agent or a step); the tightest applies. */
export interface BudgetDef {
  maxTurns?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  timeoutMs?: number;
}

export interface StepDef {
  id: string;
  agent: string;
  action: string;
  with: Record<string, unknown>;
  needs: string[];
  if?: string;
  gate?: GateDef;
  retry?: RetryDef;
  timeoutMs?: number;
  onFailure: OnFailure;
  /** The LLM loop's budget for this step. */
  budget?: BudgetDef;
  /** JSON Schema the LLM's final answer must match. */
  outputSchema?: Record<string, unknown>;
  origin: Origin;
}

export interface InputDef {
  name: string;
  type: JsonType;
  description?: string;
  required: boolean;
  default?: unknown;
}

export interface WorkflowDef {
  name: string;
  description?: string;
  inputs: InputDef[];
  steps: StepDef[];
  origin: Origin;
}

export type Coordination =
  | 'centralized'
  | 'pipeline'
  | 'fan-out'
  | 'master-worker'
  | 'hierarchical'
  | 'blackboard'
  | 'auction'
  | 'peer-to-peer'
  | 'swarm';

export interface TeamDef {
  name: string;
  description?: string;
  coordination: Coordination;
  /** A budget spanning a whole run. */
  budget?: BudgetDef;
  /** How deep agents may delegate to agents (`dispatch_to_agent`); default 3. */
  maxDelegationDepth?: number;
}

/** The queue engine a team file names: `engine: redis://...`, or the guide's `state_management:` block. */
export interface EngineDef {
  /** `redis://`, `rediss://` or `unix://` URL; absent when only a key prefix or isolation was given. */
  url?: string;
  /** Prefix of every Redis key (default `orch:`). */
  keyPrefix?: string;
  /** `namespace` (default): keys under the team's name; `shared`: not. */
  isolation?: 'namespace' | 'shared';
  origin: Origin;
}

/** An LLM provider orch can talk to: its wire API, not who hosts it. */
export type LlmProvider = 'anthropic' | 'openai' | 'openai-compatible';

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** A named model of the team's `models:` map, used by an agent as `model: <name>`. */
export interface ModelDef {
  name: string;
  /** Absent: inferred from `model`, as for an agent's own model name. */
  provider?: LlmProvider;
  /** The name the provider knows the model by. */
  model: string;
  baseUrl?: string;
  /** Variable holding the API key; absent: the provider's usual one (none for openai-compatible). */
  apiKeyEnv?: string;
  price?: ModelPrice;
  origin: Origin;
}

export interface AgentDef {
  role: string;
  description?: string;
  /** A provider's model name, or a name from the team's `models:`. */
  model?: string;
  /** Overrides the provider the model name implies. */
  provider?: LlmProvider;
  systemPrompt?: string;
  /** Tools this agent may use; undefined means every tool declared in gantz.yaml. */
  tools?: string[];
  /** Pool size (`count` or `replicas`). */
  count: number;
  isolation: 'inline' | 'process';
  maxIterations?: number;
  /** Tools whose every call by the model needs a person's approval (`{name, approval: required}`). */
  approvalRequired?: string[];
  /** `destructive`: approval for every call of a destructive tool. */
  approval?: 'destructive';
  budget?: BudgetDef;
  maxToolResultChars?: number;
  /** Roles the model may hand the conversation to (`transfer_to_agent`). */
  handoffs?: string[];
  /** A remote A2A agent: its base URL and the headers sent with every request (`${VAR}` expanded). */
  a2a?: { url: string; headers: Record<string, string> };
  /** `headers:` given without `a2a:`, where they mean nothing (a rule reports it). */
  strayHeaders?: boolean;
  origin: Origin;
}

/** How `orchestrate` treats a failed subtask (see src/orchestration/failure-policy.ts). */
export interface FailurePolicyDef {
  maxRetries?: number;
  maxReassignments?: number;
  onExhausted?: 'partial' | 'abort';
}

/** Settings of the built-in orchestration tools; absent means their defaults. */
export interface OrchestrationDef {
  failurePolicy?: FailurePolicyDef;
  /** The agent whose model plans `orchestrate` tasks given without subtasks (default: `orchestrator`). */
  planner?: string;
  /** `llm`: the planner synthesises the subtask results into result, summary and quality_score. */
  aggregate?: 'rules' | 'llm';
  /** `llm`: every `monitor_agents` call asks the planner's model for recommendations on the pools. */
  monitor?: 'rules' | 'llm';
}

export interface ProjectFiles {
  gantz?: string;
  team?: string;
  mcp?: string;
}

export interface Project {
  /** Absolute project directory. */
  dir: string;
  /** Absolute paths of the files that were read. */
  files: ProjectFiles;
  name?: string;
  version?: string;
  /** gantz.yaml's `server.port` (the Gantz CLI's): what `orch serve --http` binds without a port. */
  servePort?: number;
  /** gantz.yaml's `serve.expose`: MCP servers `orch serve` re-serves as a gateway. */
  serveExpose?: string[];
  tools: Map<string, ToolDef>;
  servers: Map<string, McpServerDef>;
  /** Servers declared with `disabled: true`, kept apart so that nothing starts them. */
  disabledServers?: Map<string, DisabledServer>;
  team?: TeamDef;
  /** Where tasks are scheduled, from agent-team.yaml's `engine:` or `state_management:`; absent: the local engine. */
  engine?: EngineDef;
  agents: Map<string, AgentDef>;
  workflows: Map<string, WorkflowDef>;
  orchestration?: OrchestrationDef;
  /** The team's `models:` map by name; absent when the team declares none. */
  models?: Map<string, ModelDef>;
}
