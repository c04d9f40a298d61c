import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadProject } from '../../config/load.js';
import { declaredTools } from '../../config/tools.js';
import type { Project, ToolDef } from '../../config/model.js';
import { ExitCode, OrchError } from '../../errors.js';
import { installShutdownHandlers } from '../signals.js';
import { Supervisor } from '../../mcp/supervisor.js';
import { assertNotHalted } from '../../state/halt.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { redactingLogger, silentLogger, streamLogger } from '../../tools/context.js';
import { secretsRedactor, type Redactor } from '../../secrets/redact.js';
import { redactError } from '../../secrets/redact-error.js';
import { defaultInterceptors } from '../../agents/interceptors.js';
import { callTool } from '../../agents/runtime.js';
import { findTool } from '../../tools/invoke.js';
import { validateInput } from '../../tools/validate-input.js';
import { coerce } from '../../tools/param-flags.js';
import { formatJsonProblem, parseJsonText } from '../../util/json-text.js';
import { suggest } from '../../util/suggest.js';
import { checkInputDepth } from '../../util/json-depth.js';
import { flagEntries, isGiven, longOf, RUN_FLAGS, type RunFlags } from '../flags.js';
import { cassetteOf, parseRunTokens, takeProjectFlags, workflowTarget, type FlagsBeforeName } from '../run-flags.js';
import { llmSettings } from '../../agents/llm-action.js';
import type { CassetteSpec } from '../../llm/cassette.js';
import { ToolError, type ContentBlock, type ToolResult } from '../../tools/result.js';
import { killRunningScripts } from '../../tools/script.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { reportTarget } from '../report/target.js';

/** `orch run <tool|workflow> [--input json | --task json | --<param> value...]`. */
export async function run(
  globals: GlobalOptions,
  name: unknown,
  before: FlagsBeforeName,
  command: Command,
  io: Io = processIo,
): Promise<number> {
  if (typeof name !== 'string' || name.startsWith('-')) {
    if (before.help) {
      command.outputHelp();
      return ExitCode.ok;
    }
    throw new OrchError('ORCH_USAGE', 'name the tool or workflow to run: `orch run <name>`', {
      hint: '`orch validate` lists what the project declares; `orch run <tool> --help` lists a tool\'s parameters',
    });
  }
  const chosen = takeProjectFlags(command.args.slice(1));
  const tokens = chosen.tokens;
  globals = {
    ...globals,
    dir: chosen.dir === undefined ? globals.dir : path.resolve(globals.dir, chosen.dir),
    config: chosen.config ?? globals.config,
    team: chosen.team ?? globals.team,
  };
  // `orch run <name> --otel <url>`: given after the name, tracing starts here (it stops with the command).
  if (chosen.otel !== undefined) await (await import('../tracing-setup.js')).startCliTracing(chosen.otel, io.stderr);
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const workflow = project.tools.has(name) ? undefined : project.workflows.get(name);
  if (workflow) {
    // Workflows get their own runner (engine, gates, journal); their inputs take flags too.
    const parsed = parseRunTokens(workflowTarget(workflow), tokens, before, globals, io);
    if (parsed.helped) return ExitCode.ok;
    if (!parsed.flags.dryRun) assertNotHalted(resolveStateDir(project.dir), `orch run ${name}`);
    const input = { ...(await jsonInputs(parsed.flags, project.dir)), ...parsed.values };
    const { runWorkflowCommand } = await import('./workflow-run.js');
    return runWorkflowCommand(parsed.globals, io, project, name, input, parsed.flags);
  }
  const tool = findTarget(project, name);
  const target = { kind: 'tool', name: tool.name, description: tool.description, params: tool.params } as const;
  const parsed = parseRunTokens(target, tokens, before, globals, io);
  if (parsed.helped) return ExitCode.ok;
  assertNotHalted(resolveStateDir(project.dir), `orch run ${name}`);
  const { flags } = parsed;
  globals = parsed.globals;
  if ((flags.record !== undefined || flags.replay !== undefined) && !orchestrationTool(tool)) {
    const what = `--record and --replay are for workflows and the orchestration tools, whose agents' models they record or replay`;
    throw new OrchError('ORCH_USAGE', `${what}; \`${name}\` is neither`, { hint: 'run it without them' });
  }
  const cassette = cassetteOf(flags, project.dir);
  if (flags.reportHtml !== undefined && !orchestrationTask(tool)) {
    const what = `--report-html is for workflows and the orchestration tools (orchestrate, assign_task); \`${name}\` is neither`;
    throw new OrchError('ORCH_USAGE', what, {
      hint: 'run it without --report-html; `orch report <run>` reports any run or task later',
    });
  }
  const htmlFile = flags.reportHtml === undefined ? undefined : await reportTarget(flags.reportHtml, '--report-html', 'an HTML file', 'report.html');
  const workflowOnly = flagEntries(RUN_FLAGS).filter(([, spec]) => spec.workflowOnly);
  if (workflowOnly.some(([key]) => isGiven(flags[key]))) {
    const names = workflowOnly.map(([, spec]) => longOf(spec));
    throw new OrchError('ORCH_USAGE', `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''} are for workflows`, {
      hint: `\`${name}\` is a tool; run it without them`,
    });
  }
  const input = { ...(await jsonInput(tool, flags, project.dir)), ...parsed.values };

  // The tool gets its input as given; what is shown of its run has the project's secrets, and those it was given, hidden.
  const redactor = secretsRedactor(process.env, project.servers.values());
  redactor.learn(input);
  const result = await invokeWithShutdown(project, tool, input, globals, io, redactor, cassette).catch((err: unknown) => {
    // The error line shows stderr's last line; the whole of it is what one debugs with.
    const stderr = err instanceof ToolError ? redactor.redactString(err.detail.stderr ?? '') : '';
    if (!globals.quiet && stderr.trim().includes('\n')) io.stderr.write(stderr.endsWith('\n') ? stderr : `${stderr}\n`);
    throw redactError(err, redactor);
  });
  io.stdout.write(globals.json ? `${JSON.stringify(redactor.redact(result.value ?? null), null, 2)}\n` : redactor.redactString(humanText(result)));
  const taskId = result.value !== null && typeof result.value === 'object' ? (result.value as { task_id?: unknown }).task_id : undefined;
  if (htmlFile && typeof taskId === 'string') {
    const { loadTimeline, writeHtmlReport } = await import('../report/load.js');
    await writeHtmlReport(htmlFile, await loadTimeline(resolveStateDir(project.dir), taskId), '--report-html');
  }
  return orchestrationFailed(tool, result.value) ? ExitCode.runFailed : ExitCode.ok;
}

/**
 * The built-in `orchestrate` reports failed subtasks inside its result rather than
 * failing: the report is printed whole, and the exit code tells CI the task did not
 * complete (DESIGN: 1 = the run failed).
 */
function orchestrationFailed(tool: ToolDef, value: unknown): boolean {
  const h = tool.handler;
  if (h.kind !== 'module' || h.module !== 'orchestration' || h.file !== undefined || h.fn !== 'orchestrate') return false;
  const status = value !== null && typeof value === 'object' ? (value as { status?: unknown }).status : undefined;
  return status === 'failed' || status === 'partial';
}

/** Whether the tool is one of the built-in orchestration tools, which may run agents and their models. */
function orchestrationTool(tool: ToolDef): boolean {
  const h = tool.handler;
  return h.kind === 'module' && h.module === 'orchestration' && h.file === undefined;
}

/** Whether the tool is a built-in orchestration tool that records a task (`orchestrate`, `assign_task`). */
function orchestrationTask(tool: ToolDef): boolean {
  const h = tool.handler;
  return h.kind === 'module' && h.module === 'orchestration' && h.file === undefined && (h.fn === 'orchestrate' || h.fn === 'assign_task');
}

/** A tool by name; a name that is neither a tool nor a workflow gets the closest of either. */
function findTarget(project: Project, name: string): ToolDef {
  if (project.tools.has(name) || project.workflows.size === 0) return findTool(project, name);
  const names = [...project.tools.keys(), ...project.workflows.keys()];
  const guess = suggest(name, names);
  throw new OrchError('ORCH_UNKNOWN_TOOL', `no tool or workflow named \`${name}\``, {
    hint: guess
      ? `did you mean \`${guess}\`?`
      : `tools: ${declaredTools(project.tools).map((t) => t.name).join(', ') || 'none'}; workflows: ${[...project.workflows.keys()].join(', ')}`,
  });
}

/** A workflow's `--input` / `--task` JSON objects, merged. */
async function jsonInputs(flags: RunFlags, dir: string): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = {};
  for (const [flag, source] of [['--input', flags.input], ['--task', flags.task]] as const) {
    if (source !== undefined) Object.assign(input, await readJsonObject(source, dir, flag));
  }
  return input;
}

/** `--input` (or `--task` for a tool without a `task` parameter) as the whole input. */
async function jsonInput(tool: ToolDef, flags: RunFlags, dir: string): Promise<Record<string, unknown>> {
  const taskParam = tool.params.find((p) => p.name === 'task');
  const whole: Record<string, unknown> = {};
  if (flags.task !== undefined && taskParam) whole.task = coerceFlag(taskParam, flags.task);
  const sources = [['--input', flags.input], ['--task', taskParam ? undefined : flags.task]] as const;
  for (const [flag, source] of sources) if (source !== undefined) Object.assign(whole, await readJsonObject(source, dir, flag));
  return whole;
}

function coerceFlag(param: ToolDef['params'][number], raw: string): unknown {
  try {
    return coerce(param, raw);
  } catch (err) {
    if (err instanceof OrchError) throw err;
    throw new OrchError('ORCH_INPUT', err instanceof Error ? err.message : String(err));
  }
}

/** A JSON object from `--input`/`--task`: the text itself, or `@file.json` relative to the project. */
export async function readJsonObject(source: string, dir: string, flag = 'the input'): Promise<Record<string, unknown>> {
  let text = source;
  let origin = flag;
  if (source.startsWith('@')) {
    const file = path.resolve(dir, source.slice(1));
    origin = source.slice(1);
    text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new OrchError('ORCH_INPUT', `cannot read ${origin}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, {
        hint: `@file paths are relative to the project directory (${dir})`,
      });
    });
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    throw new OrchError('ORCH_INPUT', formatJsonProblem(origin, text, parsed.problem), {
      hint: parsed.problem.hint ?? `quote it for the shell: --input '{"name": "value"}', or use --input @file.json`,
    });
  }
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OrchError('ORCH_INPUT', `${origin} must be a JSON object of parameters`);
  }
  checkInputDepth(value, origin);
  return { ...value };
}

/**
 * Runs the tool with MCP servers available (started on first use) and makes every way
 * out, Ctrl-C included, go through cancelling the tool and stopping the servers.
 */
async function invokeWithShutdown(
  project: Project,
  tool: ToolDef,
  input: unknown,
  globals: GlobalOptions,
  io: Io,
  redactor: Redactor,
  cassette: CassetteSpec | undefined,
): Promise<ToolResult> {
  const controller = new AbortController();
  const supervisor =
    project.servers.size > 0 ? new Supervisor(project.servers.values(), { stateDir: resolveStateDir(project.dir) }) : undefined;
  let settled: Promise<unknown> = Promise.resolve();
  const uninstall = installShutdownHandlers(
    async () => {
      controller.abort();
      await settled;
      await supervisor?.shutdown();
    },
    () => {
      killRunningScripts();
      for (const server of supervisor?.names() ?? []) supervisor?.server(server).killNow();
    },
  );
  try {
    const logger = globals.quiet ? silentLogger : redactingLogger(streamLogger(io.stderr, tool.name, globals.verbose), (m) => redactor.redactString(m));
    const stateDir = resolveStateDir(project.dir);
    // Through the agent runtime's interceptors, so a direct run is audited like every other call.
    const call = callTool({ kind: 'tool', tool: tool.name }, validateInput(tool, input), {
      project,
      signal: controller.signal,
      logger,
      servers: supervisor,
      stateDir,
      interceptors: defaultInterceptors(stateDir, project.servers.values()),
      // The models of the agents an orchestration tool runs answer from --replay (or are recorded).
      llm: llmSettings(cassette, process.env, redactor),
    });
    settled = call.catch(() => undefined);
    return await call;
  } finally {
    await supervisor?.shutdown();
    uninstall();
  }
}

/** A result for people: text as it is, data as YAML, media as a one-line summary. */
function humanText(result: ToolResult): string {
  const { value, content } = result;
  let text: string;
  if (content && value === content) text = content.map(describeBlock).join('\n');
  else if (typeof value === 'string') text = value;
  else if (value === undefined) text = '';
  else text = stringify(value).trimEnd();
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

function describeBlock(block: ContentBlock): string {
  if (block.type === 'text') return String(block.text ?? '');
  if (block.type === 'resource_link') return `[resource ${String(block.uri)}]`;
  const { resource } = block;
  if (block.type === 'resource' && resource !== null && typeof resource === 'object' && 'uri' in resource) {
    return `[resource ${String(resource.uri)}]`;
  }
  return `[${block.type}${typeof block.mimeType === 'string' ? ` ${block.mimeType}` : ''}]`;
}
