import './orchestration/register.js';
/**
 * orch's programmatic API. It never exits the process and installs no signal handlers:
 * errors are thrown as `OrchError`s (with a stable `code`, a `hint` and the `exitCode`
 * the CLI would use), and every process a call starts is ended before it settles, or
 * by `Supervisor.shutdown()` for the MCP servers a caller starts itself.
 *
 * This file is the one place that maps the public names to the internal modules.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { loadProject as loadInternal, type LoadOptions, type LoadResult } from './config/load.js';
import type { Project, WorkflowDef } from './config/model.js';
import { ExitCode, OrchError } from './errors.js';
import { Supervisor } from './mcp/supervisor.js';
import type { SupervisionPolicy } from './mcp/managed-server.js';
import {
  validateProject as validateInternal,
  type ValidateOptions as InternalValidateOptions,
  type Validation as InternalValidation,
} from './mcp/validate.js';
import { orchestrate as orchestrateHandler } from './orchestration/orchestrate.js';
import type { OrchestrationReport } from './orchestration/report.js';
import { createToolServer as createServerInternal } from './serve/tool-server.js';
import type { RunEvent } from './state/events.js';
import { readJournal } from './state/journal.js';
import type { RunState } from './state/run-state.js';
import { listRuns as listInternal, loadRun as loadRunInternal, runPaths } from './state/runs.js';
import { resolveStateDir } from './state/state-dir.js';
import { silentLogger, type Logger } from './tools/context.js';
import { defaultInterceptors } from './agents/interceptors.js';
import { llmIssues } from './agents/llm-check.js';
import { callTool } from './agents/runtime.js';
import { findTool, handlerContext } from './tools/invoke.js';
import type { ToolResult } from './tools/result.js';
import { suggest } from './util/suggest.js';
import type { GateAsker } from './workflow/engine.js';
import { resolveInputs } from './workflow/inputs.js';
import {
  resumeRun as resumeInternal,
  startRun as startInternal,
  type SessionOptions,
  type SessionResult,
} from './workflow/session.js';

export { ConfigError, ExitCode, OrchError, isOrchError } from './errors.js';
export type { Issue, Severity, SourceLocation } from './errors.js';
export { ToolError } from './tools/result.js';
export type { ContentBlock, ToolFailureDetail, ToolResult } from './tools/result.js';
export type { LoadOptions, LoadResult } from './config/load.js';
export type { AgentDef, McpServerDef, ParamDef, Project, ProjectFiles, StepDef, ToolDef, WorkflowDef } from './config/model.js';
export type { Logger } from './tools/context.js';
export type { Supervisor, StartOutcome } from './mcp/supervisor.js';
export type { SupervisionPolicy } from './mcp/managed-server.js';
export type { RunEvent } from './state/events.js';
export type { RunState, RunStatus, StepState, StepStatus } from './state/run-state.js';
export type { EngineOutcome as RunOutcome, GateAsker, GateRequest } from './workflow/engine.js';
export type { OrchestrationReport } from './orchestration/report.js';
export type { Server as ToolServer } from '@modelcontextprotocol/sdk/server/index.js';
/** Rebuilds a run's state from its events (as `readRunEvents` returns them); pure. */
export { foldRun } from './state/run-state.js';

// ——— projects ———

/**
 * Reads, validates and normalises a project's gantz.yaml, agent-team.yaml and .mcp.json.
 * Rejects with a `ConfigError` listing every problem (`issues`) when any is an error;
 * resolves to the project and its warnings otherwise.
 */
export function loadProject(options: LoadOptions = {}): Promise<LoadResult> {
  return loadInternal(options);
}

/** Options of `validateProject`: where the project is, and whether to ask its MCP servers. */
export type ValidateOptions = Omit<InternalValidateOptions, 'handleSignals'>;

/** What `validateProject` found: `ok`, every issue, and the project when its files loaded. */
export type Validation = Omit<InternalValidation, 'unverified' | 'serverIssues'>;

/**
 * What `orch validate` checks, as data: schemas and cross-file rules, and with `connect`
 * the tool names only a running MCP server can confirm (the servers it starts are shut
 * down before it resolves). Problems are in `issues`; it does not reject for them.
 */
export async function validateProject(options: ValidateOptions = {}): Promise<Validation> {
  const validation = await validateInternal(options);
  if (!validation.project) return validation;
  const issues = [...validation.issues, ...llmIssues(validation.project, validation.texts, options.env)];
  return { ...validation, issues, ok: !issues.some((i) => i.severity === 'error') };
}

// ——— MCP servers ———

/** Options of `createSupervisor`. */
export interface SupervisorOptions {
  /** Base of the servers' environments and a source of secrets to redact (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** orch's state directory: pid records and the audit log (default `.orch/` or ORCH_STATE_DIR). */
  stateDir?: string;
  /** Restart, circuit-breaker, stop and timeout settings, over the defaults. */
  policy?: Partial<SupervisionPolicy>;
}

/**
 * A supervisor of the project's MCP servers. Servers start on first use (or all at once
 * with `start()`), are restarted when they crash, and are all ended by `shutdown()`, which
 * the caller must await when done. Pass it as `supervisor` to `invokeTool`, `startRun`,
 * `resumeRun`, `orchestrate` and `createToolServer` to share the servers between calls.
 */
export function createSupervisor(project: Project, options: SupervisorOptions = {}): Supervisor {
  return new Supervisor(project.servers.values(), {
    stateDir: options.stateDir ?? resolveStateDir(project.dir, options.env),
    env: options.env,
    policy: options.policy,
  });
}

// ——— tools ———

/** Options of `invokeTool`. */
export interface InvokeOptions {
  /** Cancels the call: scripts are killed, requests aborted, module handlers told. */
  signal?: AbortSignal;
  /** Where handlers' messages go (default: dropped). */
  logger?: Logger;
  /** Running MCP servers, for `mcp:` tools and handlers that call server tools. */
  supervisor?: Supervisor;
}

/**
 * Runs a declared tool: its input is validated against the tool's parameters (an
 * `OrchError` with code `ORCH_INPUT` before anything runs), then its handler runs.
 * Resolves to the result; a tool that ran and failed rejects with a `ToolError`.
 * An `mcp:` tool needs `supervisor`.
 */
export async function invokeTool(
  project: Project,
  tool: string,
  input: Record<string, unknown> = {},
  options: InvokeOptions = {},
): Promise<ToolResult> {
  const stateDir = resolveStateDir(project.dir);
  // Through the agent runtime's interceptors, so a programmatic call is audited like every other.
  return callTool({ kind: 'tool', tool: findTool(project, tool).name }, input, {
    project,
    signal: options.signal ?? new AbortController().signal,
    logger: options.logger,
    servers: options.supervisor,
    stateDir,
    interceptors: defaultInterceptors(stateDir, project.servers.values()),
  });
}

// ——— workflow runs ———

/** Options of `startRun` and `resumeRun`. */
export interface RunOptions {
  /** Steps whose gates are approved up front (as `--approve`). */
  approve?: Iterable<string>;
  /** Approve every gate (as `--approve-all`). */
  approveAll?: boolean;
  /** Decides an approval gate; without it a gate not approved up front pauses the run. */
  ask?: GateAsker;
  /** Where steps' messages go (default: dropped). */
  logger?: Logger;
  /** Called with every journal event as it is written (secrets redacted, as on disk). */
  onEvent?: (event: RunEvent) => void;
  /** Environment for ORCH_STATE_DIR and the secrets to redact (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Running MCP servers to use; without it the run starts and ends its own. */
  supervisor?: Supervisor;
  /** Cancels the run: running steps are cancelled and the run is journalled as interrupted. */
  signal?: AbortSignal;
}

/**
 * How a run ended (`outcome`), and its state as its journal now stands: secrets redacted,
 * as everything orch writes or shows. The steps themselves received the real values.
 */
export type RunResult = SessionResult;

function sessionOptions(project: Project, workflow: WorkflowDef, options: RunOptions): SessionOptions {
  return {
    project,
    workflow,
    approve: new Set(options.approve ?? []),
    approveAll: options.approveAll === true,
    ask: options.ask,
    logger: options.logger ?? silentLogger,
    onEvent: options.onEvent,
    env: options.env,
    supervisor: options.supervisor,
    signal: options.signal,
  };
}

function findWorkflow(project: Project, name: string): WorkflowDef {
  const workflow = project.workflows.get(name);
  if (workflow) return workflow;
  const names = [...project.workflows.keys()];
  const guess = suggest(name, names);
  throw new OrchError('ORCH_UNKNOWN_WORKFLOW', `no workflow named \`${name}\``, {
    hint: guess ? `did you mean \`${guess}\`?` : names.length ? `workflows: ${names.join(', ')}` : 'agent-team.yaml declares no workflows',
    exitCode: ExitCode.usage,
  });
}

/**
 * Starts a new run of a workflow and drives it to its end or to a gate: `outcome` is
 * `succeeded`, `failed`, `paused` (a gate awaits approval; continue with `resumeRun`)
 * or `interrupted`. Inputs get their defaults and are checked before anything runs.
 */
export function startRun(
  project: Project,
  workflow: string,
  inputs: Record<string, unknown> = {},
  options: RunOptions = {},
): Promise<RunResult> {
  const def = findWorkflow(project, workflow);
  return startInternal(sessionOptions(project, def, options), resolveInputs(def, inputs));
}

/** Options of `resumeRun`. */
export interface ResumeOptions extends RunOptions {
  /**
   * Inputs the run's journal withheld, given again: secrets are stored only as
   * `[REDACTED]`, so a step still to run that reads one needs it given here, or the
   * resume is refused with `ORCH_SECRET_WITHHELD`.
   */
  inputs?: Record<string, unknown>;
}

/**
 * Continues a paused, failed or interrupted run; finished steps are not run again. A run
 * that already succeeded is left alone (`nothingToDo`).
 */
export async function resumeRun(project: Project, runId: string, options: ResumeOptions = {}): Promise<RunResult> {
  const previous = await loadRunInternal(resolveStateDir(project.dir, options.env), runId);
  if (previous.status === 'succeeded') return { outcome: 'succeeded', state: previous, nothingToDo: true };
  const workflow = project.workflows.get(previous.workflow);
  if (!workflow) {
    const message = `run ${runId} is of workflow \`${previous.workflow}\`, which agent-team.yaml no longer declares`;
    throw new OrchError('ORCH_UNKNOWN_WORKFLOW', message, {
      hint: 'restore the workflow to resume the run, or start a new run',
    });
  }
  return resumeInternal(sessionOptions(project, workflow, options), runId, options.inputs);
}

// ——— inspecting runs ———

/** Where a project's runs are kept: a loaded `Project`, or just its directory. */
export type ProjectDir = Pick<Project, 'dir'>;

/** Options of the run inspection functions. */
export interface StateOptions {
  /** Environment for ORCH_STATE_DIR (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The runs of a project, oldest first, and those whose journal cannot be read. */
export interface RunListing {
  runs: RunState[];
  unreadable: { id: string; reason: string }[];
}

/** Every run of the project, oldest first (as `orch runs`). */
export function listRuns(project: ProjectDir, options: StateOptions = {}): Promise<RunListing> {
  return listInternal(resolveStateDir(project.dir, options.env));
}

/**
 * One run's state, folded from its journal. A run recorded as running whose process is
 * gone is reported as `interrupted`. Rejects with `ORCH_UNKNOWN_RUN` for an unknown id.
 */
export function loadRun(project: ProjectDir, runId: string, options: StateOptions = {}): Promise<RunState> {
  return loadRunInternal(resolveStateDir(project.dir, options.env), runId);
}

/** One run's journal, event by event (as `orch logs --json`). */
export async function readRunEvents(project: ProjectDir, runId: string, options: StateOptions = {}): Promise<RunEvent[]> {
  const stateDir = resolveStateDir(project.dir, options.env);
  await loadRunInternal(stateDir, runId); // an unknown id gets its error and suggestion
  return readJournal(runPaths(stateDir, runId).journal);
}

// ——— orchestration ———

/** Options of `orchestrate`. */
export interface OrchestrateOptions {
  /** Only these agent types take part (the seed's `agents` parameter). */
  agents?: string[];
  /** Cancels the task: running subtasks are cancelled. */
  signal?: AbortSignal;
  /** Where handlers' messages go (default: dropped). */
  logger?: Logger;
  /** Running MCP servers, for subtasks whose tools forward to them. */
  supervisor?: Supervisor;
}

/**
 * The built-in `orchestrate` tool: plans `task.subtasks` by the coordination pattern,
 * runs them on the agent pools with the failure policy, and resolves to the report
 * (`status` `completed`, `partial` or `failed`; failed subtasks do not reject). The task
 * is the tool's `task` parameter: `{subtasks: [{id, tool, input, depends_on}], coordination?, ...}`.
 */
export function orchestrate(
  project: Project,
  task: Record<string, unknown>,
  options: OrchestrateOptions = {},
): Promise<OrchestrationReport> {
  const ctx = handlerContext(project, 'orchestrate', {
    signal: options.signal,
    logger: options.logger,
    mcp: options.supervisor,
    stateDir: resolveStateDir(project.dir),
  });
  return orchestrateHandler(options.agents === undefined ? { task } : { task, agents: options.agents }, ctx);
}

// ——— serving ———

/** Options of `createToolServer`. */
export interface ToolServerOptions {
  /** Running MCP servers the served tools and workflows forward to. */
  supervisor?: Supervisor;
  /** A logger for the named tool's messages (default: dropped); never stdout if it carries the protocol. */
  logger?: (tool: string) => Logger;
  /** Told of failures that are orch's own bugs (the client gets an error result either way). */
  onBug?: (err: unknown) => void;
}

/**
 * The project's declared tools, and its workflows, as an MCP server (the SDK's `Server`):
 * connect it to a transport, e.g. `await server.connect(new StdioServerTransport())`.
 * A tool that fails answers `isError` with the reason; one server per session.
 */
export function createToolServer(project: Project, options: ToolServerOptions = {}): Server {
  return createServerInternal(project, {
    mcp: options.supervisor,
    supervisor: options.supervisor,
    logger: options.logger ?? (() => silentLogger),
    onBug: options.onBug ?? (() => undefined),
  });
}
