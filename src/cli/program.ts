import { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { GlobalOptions } from './context.js';
import { flagEntries, GLOBAL_FLAGS, optionOf, RUN_FLAGS } from './flags.js';
import { packageVersion } from '../util/package-root.js';

/** Exit code a command action leaves behind; main.ts turns it into the process's. */
export let exitCode = 0;

/**
 * A command module's entry point: the global flags, then commander's own action
 * arguments (positionals, the command's options, the Command itself).
 */
type Action = (globals: GlobalOptions, ...args: never[]) => Promise<number>;
type Invoke = (globals: GlobalOptions, ...args: unknown[]) => Promise<number>;

/**
 * Wires a command to a module under ./commands, imported only when the command runs so
 * that `orch --help` never pays for the YAML parser, ajv or the MCP SDK.
 */
function lazy(load: () => Promise<{ run: Action }>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const globals = globalOptions(command);
    await reapLeftovers(globals.dir);
    // Asked without loading anything: with tracing off, no OpenTelemetry module is imported.
    const env = process.env;
    if (globals.otel !== undefined || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) {
      await (await import('./tracing-setup.js')).startCliTracing(globals.otel, process.stderr);
    }
    try {
      const mod = await load();
      // Commander hands over untyped values; each command declares what its wiring passes.
      exitCode = await (mod.run as Invoke)(globals, ...args);
    } finally {
      // What spans are left go out now, bounded: a collector that is down never holds orch up.
      await (await import('../util/tracing.js')).stopTracing();
    }
  };
}

/**
 * MCP servers left running by an orch that was SIGKILLed are ended by the next orch
 * command in the project. Cheap when there is nothing to reap: one existsSync.
 */
async function reapLeftovers(dir: string): Promise<void> {
  const { resolveStateDir } = await import('../state/state-dir.js');
  const stateDir = resolveStateDir(dir);
  if (!existsSync(path.join(stateDir, 'pids'))) return;
  const { reapOrphans } = await import('../process/pid-registry.js');
  const { DEFAULT_STOP_TIMINGS } = await import('../process/stop.js');
  await reapOrphans(stateDir, DEFAULT_STOP_TIMINGS);
}

function globalOptions(command: Command): GlobalOptions {
  const o = command.optsWithGlobals<{
    dir?: string;
    config?: string;
    team?: string;
    engine?: string;
    otel?: string;
    json?: boolean;
    quiet?: boolean;
    verbose?: boolean;
    color?: boolean;
  }>();
  // The flag wins over the variable; what orch starts (process workers) inherits the choice.
  if (o.engine !== undefined) process.env.ORCH_ENGINE = o.engine;
  return {
    dir: path.resolve(o.dir ?? process.cwd()),
    config: o.config,
    team: o.team,
    ...(o.engine !== undefined && { engine: o.engine }),
    ...(o.otel !== undefined && { otel: o.otel }),
    json: o.json === true,
    quiet: o.quiet === true,
    verbose: o.verbose === true,
    color: useColor(o.color !== false, process.stdout),
  };
}

/** Colour only on a terminal, never with --no-color or NO_COLOR; FORCE_COLOR forces it. */
export function useColor(flag: boolean, stream: { isTTY?: boolean }): boolean {
  if (!flag || (process.env.NO_COLOR ?? '') !== '') return false;
  if ((process.env.FORCE_COLOR ?? '') !== '' && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function buildProgram(): Command {
  const program = new Command('orch')
    .description('Declarative runtime for multi-agent systems built on MCP')
    .version(packageVersion, '-V, --version', 'print the version');
  for (const [, spec] of flagEntries(GLOBAL_FLAGS)) program.addOption(optionOf(spec));
  program
    // Set before any subcommand exists, so every subcommand inherits it: main.ts maps
    // commander's exits onto the CLI contract (usage errors are 2).
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });

  program
    .command('init')
    .description('scaffold a project from a template')
    .argument('[dir]', 'target directory', '.')
    .option('-t, --template <name>', 'template to use (see --list)')
    .option('-l, --list', 'list the templates')
    .option('-f, --force', 'write into a non-empty directory, replacing files of the same name')
    .action(lazy(() => import('./commands/init.js')));

  program
    .command('validate')
    .description('check the project files against their schemas and each other')
    .option('--connect', 'also start the MCP servers and check tool names against their real tool lists')
    .action(lazy(() => import('./commands/validate.js')));

  const run = program.command('run').description('run a declared tool or workflow').argument('[name]', 'the tool (or workflow) to run');
  for (const [, spec] of flagEntries(RUN_FLAGS)) run.addOption(optionOf(spec, spec.workflowOnly ? `workflow: ${spec.help}` : spec.help));
  run
    .helpOption(false)
    .option('-h, --help', "show help; after a tool's name, list its parameters as flags")
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText(
      'after',
      "\nFlags from the tool's parameters: `orch run <tool> --help`, e.g. orch run scale_agents --agent-type worker --count 10",
    )
    .action(lazy(() => import('./commands/run.js')));

  const mcp = program.command('mcp').description('inspect and call the configured MCP servers');
  mcp
    .command('list')
    .description('start the servers and show their status and tool counts')
    .action(lazy(() => import('./commands/mcp.js')));
  mcp
    .command('tools')
    .description('list the tools the servers provide, as `server.tool`')
    .argument('[server]', 'only this server')
    .action(lazy(() => import('./commands/mcp.js')));
  mcp
    .command('call')
    .description('call one tool of one server and print its result')
    .argument('<server>', 'the server, as named in mcpServers')
    .argument('<tool>', 'the tool, as `orch mcp tools` lists it')
    .option('--args <json>', 'the arguments as a JSON object', '{}')
    .action(lazy(() => import('./commands/mcp.js')));

  program
    .command('serve')
    .description('expose the declared tools and workflows as an MCP server (stdio, or Streamable HTTP with --http), or the team as an A2A agent (--a2a)')
    .option('--http [port]', 'serve Streamable HTTP at http://<host>:<port>/mcp instead of stdio (0: any free port; no number: gantz.yaml\'s server.port, else 3000)')
    .option('--a2a <port>', 'serve the team as an A2A agent at http://<host>:<port>/ (Agent Card at /.well-known/agent-card.json; 0: any free port); with --http, both')
    .option('--expose <servers>', 'also serve these MCP servers\' tools as <server>.<tool> (comma-separated; an MCP gateway with orch\'s audit log, rate limits, redaction and approval_required)')
    .option('--token-env <var>', 'with --a2a: require Authorization: Bearer <the value of this environment variable>')
    .option('--host <host>', 'address to bind with --http and --a2a; anything but loopback exposes the tools to the network', '127.0.0.1')
    .action(lazy(() => import('./commands/serve.js')));

  program
    .command('runs')
    .description('list workflow runs (id, workflow, status, started, duration)')
    .action(lazy(() => import('./commands/runs.js')));

  program
    .command('logs')
    .description("print one run's journal as a readable timeline")
    .argument('<run>', 'run id (see `orch runs`)')
    .action(lazy(() => import('./commands/logs.js')));

  program
    .command('report')
    .description('what a run or orchestration task did: steps, a timeline, gates, usage and cost, errors')
    .argument('<run>', 'run or task id (see `orch runs`)')
    .option('--html <file>', 'write a self-contained HTML page with a Gantt chart of the timeline (`-`: to stdout)')
    .action(lazy(() => import('./commands/report.js')));

  for (const [name, description] of [
    ['approve', 'approve a gate of a paused run'],
    ['reject', 'reject a gate of a paused run'],
  ] as const) {
    program
      .command(name)
      .description(`${description}; then \`orch resume <run>\``)
      .argument('<run>', 'run id')
      .argument('[step]', 'the step whose gate to decide (default: the only one waiting)')
      .option('--reason <text>', 'why, for the journal')
      .action(lazy(() => import('./commands/decide.js')));
  }

  program
    .command('answer')
    .description("answer an agent's question (its ask_human call) in a paused run; then `orch resume <run>`")
    .argument('<run>', 'run id')
    .argument('<step>', 'the step whose agent asked')
    .argument('<text>', 'the answer the model gets')
    .action(lazy(() => import('./commands/answer.js')));

  program
    .command('resume')
    .description('continue a paused, failed or interrupted run without re-running finished steps')
    .argument('<run>', 'run id')
    .addOption(optionOf(RUN_FLAGS.input, "inputs the run's journal withheld (secrets), given again: a JSON object, or @file.json"))
    .addOption(optionOf(RUN_FLAGS.approve))
    .addOption(optionOf(RUN_FLAGS.approveAll))
    .addOption(optionOf(RUN_FLAGS.report))
    .addOption(optionOf(RUN_FLAGS.reportHtml))
    .addOption(optionOf(RUN_FLAGS.record))
    .addOption(optionOf(RUN_FLAGS.replay))
    .action(lazy(() => import('./commands/resume.js')));

  program
    .command('graph')
    .description('print a workflow as a Mermaid flowchart')
    .argument('<workflow>', 'workflow name')
    .action(lazy(() => import('./commands/graph.js')));

  program
    .command('scale')
    .description('set the pool size of an agent type (the same as `orch run scale_agents`)')
    .requiredOption('--agent-type <type>', 'the agent type: a role of agent-team.yaml, or `worker` without a team')
    .requiredOption('--count <n>', 'the number of instances; busy ones above it leave when their tasks end')
    .action(lazy(() => import('./commands/scale.js')));

  program
    .command('worker')
    .description('take jobs of the queue engine (--engine, ORCH_ENGINE or `engine:`) until SIGTERM, which drains it')
    .addOption(optionOf({ flags: '--agent-type <type>', help: 'take jobs of this agent type (repeatable; default: every type of the team)', repeatable: true }))
    .option('--concurrency <n>', 'jobs of each type run at once (default 1)')
    .option('--stall-interval <duration>', "how soon a dead worker's jobs are taken over; the same on every worker (default 5s, also ORCH_STALL_INTERVAL)")
    .action(lazy(() => import('./commands/worker.js')));

  program
    .command('stop')
    .description('the kill switch: stop a running run, or with --all every run and orchestrate task, journalled interrupted and resumable')
    .argument('[run]', 'the run to stop (see `orch runs`)')
    .option('--all', 'stop every run and task of the project, and refuse new runs until `orch start --all`')
    .option('--timeout <duration>', 'how long a run gets to stop by itself (SIGTERM) before it is killed with its processes', '10s')
    .action(lazy(() => import('./commands/stop.js')));

  program
    .command('start')
    .description('lift the kill switch of `orch stop --all`: new runs may start again')
    .option('--all', 'lift it for the whole project (required)')
    .action(lazy(() => import('./commands/start.js')));

  program
    .command('deploy')
    .description('write Kubernetes manifests or a Compose file that run the project on the queue engine: Redis and `orch worker` pools')
    .option('--platform <platform>', 'kubernetes or compose')
    .option('--out <dir>', 'the folder to write (default: deploy/<platform> in the project)')
    .option('--image <image>', "the image the workers run (default: orch:<orch's version>); a Dockerfile for it is written beside the manifests")
    .option('-f, --force', 'replace files in the folder that orch deploy did not write')
    .action(lazy(() => import('./commands/deploy.js')));

  program
    .command('status')
    .description('agent pools, servers and recent runs')
    .action(lazy(() => import('./commands/status.js')));

  program.addHelpText(
    'after',
    `
Examples:
  $ orch init demo --template orchestration-system
  $ orch -C demo validate
  $ orch -C demo scale --agent-type worker --count 10
  $ orch -C demo run orchestrate --task '{"subtasks": [{"id": "a", "tool": "word_count", "input": {"text": "hi"}}]}'
  $ orch run deploy_request --service payments --version 1.4.2 --approve review
  $ orch report <run> --html report.html
  $ orch --otel http://127.0.0.1:4318 run deploy_request --service payments --version 1.4.2

Exit codes: 0 ok · 1 run failed · 2 usage or config error · 3 paused at a gate · 130/143 interrupted`,
  );
  return program;
}
