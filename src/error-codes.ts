/**
 * Every error code orch reports, closed: a code not listed here does not type-check.
 * Codes are part of the CLI contract and never change once shipped; README's "Error codes"
 * table is this registry (a test keeps the two equal).
 *
 * - `exit`: the process's exit code when the error ends a command (DESIGN.md section 2:
 *   1 the run failed, 2 usage or configuration, 130 interrupted).
 * - `retryable`: whether another attempt at the same call may succeed. Schedulers retry
 *   only these; a bad input, an unknown name or a cancellation fails the same way again.
 */
export const ERROR_CODES = {
  // Reading and checking the configuration (each is also an `Issue` of `orch validate`).
  ORCH_NO_PROJECT_DIR: { exit: 2, retryable: false, doc: 'the project directory (`-C`) does not exist' },
  ORCH_NO_CONFIG: { exit: 2, retryable: false, doc: 'the project directory has no gantz.yaml or agent-team.yaml' },
  ORCH_FILE_NOT_FOUND: { exit: 2, retryable: false, doc: 'a configuration file (given with `--config`/`--team`) cannot be read' },
  ORCH_FILE_UNREADABLE: { exit: 2, retryable: false, doc: 'a configuration path is not a regular file' },
  ORCH_FILE_TOO_LARGE: { exit: 2, retryable: false, doc: 'a configuration file is larger than orch reads' },
  ORCH_FILE_BINARY: { exit: 2, retryable: false, doc: 'a configuration file is not UTF-8 text' },
  ORCH_FILE_EMPTY: { exit: 2, retryable: false, doc: 'a configuration file is empty' },
  ORCH_YAML_SYNTAX: { exit: 2, retryable: false, doc: 'a file is not valid YAML' },
  ORCH_YAML_DUPLICATE_KEY: { exit: 2, retryable: false, doc: 'a YAML mapping has the same key twice' },
  ORCH_JSON_SYNTAX: { exit: 2, retryable: false, doc: 'a `.mcp.json` is not valid JSON (comments and trailing commas are allowed, nothing else)' },
  ORCH_JSON_DUPLICATE_KEY: { exit: 2, retryable: false, doc: 'a JSON object has the same key twice' },
  ORCH_YAML_ALIAS: { exit: 2, retryable: false, doc: 'a file expands YAML aliases excessively' },
  ORCH_SCHEMA: { exit: 2, retryable: false, doc: 'a value does not match the file\'s JSON Schema' },
  ORCH_UNKNOWN_KEY: { exit: 2, retryable: false, doc: 'a key the file\'s JSON Schema does not allow' },
  ORCH_CONFIG: { exit: 2, retryable: false, doc: 'the configuration has problems (when no single one names the error)' },
  ORCH_ENV_SYNTAX: { exit: 2, retryable: false, doc: 'a `${...}` reference is not one orch understands' },
  ORCH_ENV_INPUT: { exit: 2, retryable: false, doc: 'a `${input:id}` reference: orch has no input prompts (use `${env:NAME}`)' },
  ORCH_ENV_UNSET: { exit: 2, retryable: false, doc: 'a `${VAR}` without a default names an unset environment variable' },
  ORCH_DUPLICATE_TOOL: { exit: 2, retryable: false, doc: 'a tool is declared twice' },
  ORCH_DUPLICATE_SERVER: { exit: 2, retryable: false, doc: 'an MCP server is declared in more than one file' },
  ORCH_DUPLICATE_AGENT: { exit: 2, retryable: false, doc: 'an agent role is declared twice' },
  ORCH_DUPLICATE_STEP: { exit: 2, retryable: false, doc: 'two steps of a workflow have the same id' },
  ORCH_AGENT_COUNT: { exit: 2, retryable: false, doc: 'an agent\'s `count` and `replicas` disagree' },
  ORCH_SERVER_DISABLED: { exit: 2, retryable: false, doc: 'an MCP server marked `disabled: true` was asked for (a warning where only named)' },
  ORCH_ENGINE_URL: { exit: 2, retryable: false, doc: 'the engine URL (`engine:`, `--engine`, ORCH_ENGINE) is not a `redis://`, `rediss://` or `unix://` URL' },
  ORCH_ENGINE_OPTION_IGNORED: { exit: 2, retryable: false, doc: 'a `state_management:` key orch does not honour (a warning)' },
  ORCH_ENGINE_UNREACHABLE: { exit: 2, retryable: false, doc: 'the queue engine\'s Redis could not be reached, or refused orch\'s commands' },
  ORCH_SERVER_TRANSPORT: { exit: 2, retryable: false, doc: 'an MCP server needs exactly one of `command` and `url`, matching its `type`' },
  ORCH_NO_HANDLER: { exit: 2, retryable: false, doc: 'a tool has no handler' },
  ORCH_HANDLER_CONFLICT: { exit: 2, retryable: false, doc: 'a tool has more than one handler' },
  ORCH_SCRIPT_COMMAND: { exit: 2, retryable: false, doc: 'a script needs exactly one of `shell` and `command`' },
  ORCH_HANDLER_NOT_FOUND: { exit: 2, retryable: false, doc: 'a handler module `handlers/<module>` does not exist' },
  ORCH_UNKNOWN_HANDLER: { exit: 2, retryable: false, doc: 'a handler module has no function of that name' },
  ORCH_GATE_WHEN: { exit: 2, retryable: false, doc: '`tests_must_pass` can only apply after its step' },
  ORCH_UNKNOWN_PARAM: { exit: 2, retryable: false, doc: 'a placeholder or `with:` key is not a parameter of the tool' },
  ORCH_PARAM_DEFAULT: { exit: 2, retryable: false, doc: 'a parameter\'s `default` is not a value of its type' },
  ORCH_PARAM_TYPE: { exit: 2, retryable: false, doc: 'a step gives a tool parameter a value of the wrong type' },
  ORCH_MISSING_PARAM: { exit: 2, retryable: false, doc: 'a step does not give a parameter its tool requires' },
  ORCH_UNKNOWN_INPUT: { exit: 2, retryable: false, doc: 'an expression reads an input the workflow does not declare' },
  ORCH_STEP_NOT_UPSTREAM: { exit: 2, retryable: false, doc: 'an expression reads a step that does not run before it' },
  ORCH_EXPRESSION: { exit: 2, retryable: false, doc: 'a `${{ ... }}` expression does not parse or reads what it cannot' },
  ORCH_CYCLE: { exit: 2, retryable: false, doc: 'the `needs` of a workflow\'s steps form a cycle' },
  ORCH_UNRESOLVED_ACTION: { exit: 2, retryable: false, doc: 'a step\'s action is no tool its agent may use, and the agent has no model' },
  ORCH_A2A_AGENT: { exit: 2, retryable: false, doc: 'an agent with `a2a:` also declares what only a local agent has (`model`, `tools`, ...), or `headers:` without `a2a:`' },
  ORCH_A2A_CARD: { exit: 2, retryable: false, doc: '`orch validate --connect`: a remote A2A agent\'s Agent Card cannot be fetched or offers no JSON-RPC interface' },
  ORCH_TOOL_UNVERIFIED: { exit: 2, retryable: false, doc: 'a warning: only a running MCP server can confirm this tool name' },
  ORCH_TOOL_NOT_PROVIDED: { exit: 2, retryable: false, doc: '`validate --connect`: no running MCP server provides this tool' },

  // Using a command or tool wrongly: the same call fails the same way again.
  ORCH_USAGE: { exit: 2, retryable: false, doc: 'a command line orch does not accept' },
  ORCH_INPUT: { exit: 2, retryable: false, doc: 'tool input does not match its parameters' },
  ORCH_TASK: { exit: 2, retryable: false, doc: 'an orchestration task or failure policy is malformed' },
  ORCH_UNKNOWN_TOOL: { exit: 2, retryable: false, doc: 'no declared tool (or MCP server tool) has this name' },
  ORCH_TOOL_AMBIGUOUS: { exit: 2, retryable: false, doc: 'several MCP servers provide a tool of this bare name' },
  ORCH_UNKNOWN_SERVER: { exit: 2, retryable: false, doc: 'no MCP server of this name is configured' },
  ORCH_UNKNOWN_AGENT: { exit: 2, retryable: false, doc: 'no agent (role or instance id) of this name' },
  ORCH_UNKNOWN_AGENT_TYPE: { exit: 2, retryable: false, doc: 'no agent type of this name is declared' },
  ORCH_UNKNOWN_STEP: { exit: 2, retryable: false, doc: 'no step of this id in the workflow' },
  ORCH_UNKNOWN_WORKFLOW: { exit: 2, retryable: false, doc: 'no workflow of this name is declared' },
  ORCH_UNKNOWN_RUN: { exit: 2, retryable: false, doc: 'no run of this id in the state directory' },
  ORCH_UNKNOWN_TASK: { exit: 2, retryable: false, doc: 'no orchestration task of this id' },
  ORCH_UNKNOWN_TEMPLATE: { exit: 2, retryable: false, doc: '`orch init` has no template of this name' },
  ORCH_TARGET_NOT_DIR: { exit: 2, retryable: false, doc: '`orch init`: the target exists and is not a directory' },
  ORCH_TARGET_NOT_EMPTY: { exit: 2, retryable: false, doc: '`orch init`: files of the template already exist in the target (use `--force`)' },
  ORCH_NO_GATE: { exit: 2, retryable: false, doc: '`orch approve`/`reject`: no gate of the run awaits a decision' },
  ORCH_HANDLER_LOAD: { exit: 2, retryable: false, doc: 'a handler module cannot be loaded' },
  ORCH_PYTHON_NOT_FOUND: { exit: 2, retryable: false, doc: 'a Python handler needs `python3` (or the interpreter named by ORCH_PYTHON), which cannot be run' },
  ORCH_HANDLER_EXPORT: { exit: 2, retryable: false, doc: 'a handler module does not export the function' },
  ORCH_NOT_AVAILABLE: { exit: 2, retryable: false, doc: 'a built-in handler this version does not provide' },
  ORCH_MCP_UNAVAILABLE: { exit: 2, retryable: false, doc: 'an MCP tool was called where no MCP servers run' },
  ORCH_LLM_KEY_MISSING: { exit: 2, retryable: false, doc: 'an LLM step\'s provider needs an API key that is not set (checked before any step runs)' },
  ORCH_PRICE_UNKNOWN: { exit: 2, retryable: false, doc: 'a `max_cost_usd` budget applies to a model whose price orch does not know' },
  ORCH_MODEL_UNKNOWN: { exit: 2, retryable: false, doc: 'an agent\'s model names no provider orch knows and no `models:` entry' },
  ORCH_POOL_EMPTY: { exit: 2, retryable: false, doc: 'an agent type is scaled to 0 instances (`orch scale` it up)' },
  ORCH_HALTED: { exit: 2, retryable: false, doc: 'the kill switch is on (`orch stop --all`): no new run starts until `orch start --all`' },
  ORCH_DEPLOY_EXISTS: { exit: 2, retryable: false, doc: '`orch deploy`: a file in the output folder was not written by orch deploy (use `--force` or another `--out`)' },
  ORCH_DEPLOY_TOO_LARGE: { exit: 2, retryable: false, doc: '`orch deploy --platform kubernetes`: the project\'s files exceed what one ConfigMap holds (1 MiB)' },
  ORCH_DEPLOY_WRITE: { exit: 2, retryable: false, doc: '`orch deploy`: the output folder or a file in it cannot be written' },

  // State on disk.
  ORCH_STATE_DIR: { exit: 2, retryable: false, doc: 'the state directory (`.orch/` or `ORCH_STATE_DIR`) cannot be created' },
  ORCH_RUN_LOCKED: { exit: 2, retryable: false, doc: 'another orch process is driving the run' },
  ORCH_CORRUPT_RUN: { exit: 2, retryable: false, doc: 'a run\'s journal holds a line orch did not write' },
  ORCH_SECRET_WITHHELD: { exit: 2, retryable: false, doc: 'a resumed run or re-run subtask needs a secret that orch\'s files keep only as `[REDACTED]`' },
  ORCH_STATE_WRITE: { exit: 2, retryable: false, doc: 'orch cannot write its state (disk full, read-only, a file where a folder belongs); what it began is cleaned up' },
  ORCH_STATE_UNREADABLE: { exit: 2, retryable: false, doc: 'a file of the state directory cannot be read (a folder in its place, no permission)' },
  ORCH_REPORT_WRITE: { exit: 2, retryable: false, doc: 'a report file (`--report`, `--report-html`, `orch report --html`) cannot be written (the run itself is recorded)' },
  ORCH_CORRUPT_STATE: { exit: 2, retryable: false, doc: 'a state file (the agent registry) is not in a shape or version this orch reads; it is left untouched' },

  // A run that failed. Tool, server and worker failures may pass on another attempt.
  ORCH_TOOL_FAILED: { exit: 1, retryable: true, doc: 'a tool ran and failed (exit code, HTTP status, exception)' },
  ORCH_TOOL_ERROR: { exit: 1, retryable: true, doc: 'an MCP server answered a tool call with an error' },
  ORCH_TOOL_TIMEOUT: { exit: 1, retryable: true, doc: 'a tool did not finish within its timeout' },
  ORCH_TOOL_INVALID: { exit: 1, retryable: false, doc: 'a tool\'s declaration cannot run as written (e.g. a body on a GET)' },
  ORCH_SERVER_START: { exit: 1, retryable: true, doc: 'an MCP server failed to start or to answer in time' },
  ORCH_SERVER_EXITED: { exit: 1, retryable: true, doc: 'an MCP server exited unasked' },
  ORCH_SERVER_UNAVAILABLE: { exit: 1, retryable: true, doc: 'an MCP server keeps failing; orch pauses calls to it' },
  ORCH_SERVER_STOPPED: { exit: 1, retryable: false, doc: 'an MCP server was shut down while a call waited for it' },
  ORCH_WORKER_DIED: { exit: 1, retryable: true, doc: 'the worker running a task died or could not take it' },
  ORCH_WORKER_LOST: { exit: 1, retryable: false, doc: 'the queue worker running a job of an `idempotent: false` tool died: the job was failed, not run again' },
  ORCH_STOP_FAILED: { exit: 1, retryable: true, doc: '`orch stop`: a run\'s process could not be signalled or did not end' },
  ORCH_CONFLICT: { exit: 1, retryable: true, doc: 'blackboard writes kept conflicting; the task gave up' },
  ORCH_NO_HEALTHY_AGENT: { exit: 1, retryable: false, doc: 'every instance of the agent type is unhealthy' },
  ORCH_DEPENDENCY_FAILED: { exit: 1, retryable: false, doc: 'a subtask did not run because one it needs failed' },
  ORCH_ABORTED: { exit: 1, retryable: false, doc: 'a subtask did not run because the task was aborted' },
  ORCH_BUDGET_EXCEEDED: { exit: 1, retryable: false, doc: 'a step used up its turns, tokens, cost or time budget' },
  ORCH_REPLAY_MISS: { exit: 1, retryable: false, doc: '`--replay`: the recording has no answer for this model call' },
  ORCH_REPLAY_CORRUPT: { exit: 1, retryable: false, doc: '`--replay`: a recording file cannot be read as one' },
  ORCH_LLM_REQUEST: { exit: 1, retryable: false, doc: 'the LLM provider refused the request (a 4xx other than 429); the message is the provider\'s' },
  ORCH_LLM_PROVIDER: { exit: 1, retryable: true, doc: 'the LLM provider kept failing (429, 5xx, no connection) past orch\'s bounded retries' },
  ORCH_LLM_RESPONSE: { exit: 1, retryable: true, doc: 'the LLM provider\'s answer could not be read' },
  ORCH_HANDOFF_LOOP: { exit: 1, retryable: false, doc: 'agents handed a conversation back to one that already had it' },
  ORCH_PLAN_INVALID: { exit: 1, retryable: false, doc: "the planner model's plan for an `orchestrate` task does not fit the subtask schema after a repair turn, or names a tool or agent type the project lacks" },
  ORCH_OUTPUT_INVALID: { exit: 1, retryable: true, doc: 'an LLM step\'s answer does not match its `output_schema`, even after a repair turn' },
  ORCH_A2A_UNREACHABLE: { exit: 1, retryable: true, doc: 'a remote A2A agent could not be reached, or refused the request' },
  ORCH_A2A_TASK_FAILED: { exit: 1, retryable: false, doc: 'a remote A2A agent\'s task failed, was rejected or cancelled, or needs input where nobody can give it' },

  // Paused (exit 3): the run waits for a person.
  ORCH_APPROVAL_PENDING: { exit: 3, retryable: false, doc: 'a model\'s tool call needs a person\'s approval; the run pauses until `orch approve` / `orch reject`' },
  ORCH_INTERNAL: { exit: 1, retryable: false, doc: 'a bug in orch; please report it' },

  // Interrupted (130 after SIGINT; a run ended by SIGTERM exits 143).
  ORCH_CANCELLED: { exit: 130, retryable: false, doc: 'the call or task was cancelled before it finished' },
} as const satisfies Record<string, { exit: number; retryable: boolean; doc: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether a string (from a worker message, a thrown error's `code`) is one of orch's codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The exit code of a command that ends with this error. */
export function exitCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}

/** Whether another attempt at the same call may succeed. */
export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
