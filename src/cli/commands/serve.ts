import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { declaredTools } from '../../config/tools.js';
import { loadProject } from '../../config/load.js';
import { ExitCode, OrchError } from '../../errors.js';
import { installShutdownHandlers } from '../signals.js';
import { Supervisor } from '../../mcp/supervisor.js';
import { serveA2a } from '../../serve/a2a.js';
import { orchestratorRole } from '../../serve/a2a-card.js';
import { exposedServers } from '../../serve/gateway.js';
import { isWildcard, serveHttp } from '../../serve/http.js';
import { createToolServer } from '../../serve/tool-server.js';
import type { Project } from '../../config/model.js';
import { servedWorkflows, settleWorkflowCalls } from '../../serve/workflow-tools.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { silentLogger, streamLogger } from '../../tools/context.js';
import { killRunningScripts } from '../../tools/script.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { packageVersion } from '../../util/package-root.js';

interface ServeFlags {
  /** `--http <port>`, or `true` for `--http` alone. */
  http?: string | true;
  /** `--a2a <port>`: the team as an A2A agent. */
  a2a?: string;
  /** `--expose <servers>`: MCP servers re-served as `<server>.<tool>`. */
  expose?: string;
  /** `--token-env <var>`: the A2A server requires this variable's value as a bearer token. */
  tokenEnv?: string;
  host: string;
}

/**
 * `orch serve [--http <port> [--host <host>]]`: the declared tools as an MCP server, over
 * stdio until the client closes it, or over HTTP until interrupted. MCP servers the
 * tools forward to start on first use and are supervised (restarted) while serving.
 */
export async function run(globals: GlobalOptions, flags: ServeFlags, _command?: unknown, io: Io = processIo): Promise<number> {
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const port = flags.http === undefined ? undefined : flags.http === true ? (project.servePort ?? GANTZ_DEFAULT_PORT) : parsePort(flags.http, '--http');
  const a2aPort = flags.a2a === undefined ? undefined : parsePort(flags.a2a, '--a2a');
  const token = bearerToken(flags, process.env);
  const expose = exposedServers(project, flags.expose);
  const supervisor =
    project.servers.size > 0 ? new Supervisor(project.servers.values(), { stateDir: resolveStateDir(project.dir) }) : undefined;
  // Workflow runs learn of a shutdown through this signal, with the name of the one received.
  const shutdown = new AbortController();
  const onSigint = () => shutdown.abort('SIGINT');
  const onSigterm = () => shutdown.abort('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const options = {
    expose,
    shutdown: shutdown.signal,
    mcp: supervisor,
    supervisor,
    logger: (tool: string) => (globals.quiet ? silentLogger : streamLogger(io.stderr, tool, globals.verbose)),
    onBug: (err: unknown) => io.stderr.write(`orch serve: internal error, please report it:\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
  };
  const say = (line: string) => {
    if (!globals.quiet) io.stderr.write(`${line}\n`);
  };

  let stop: () => Promise<void> = async () => undefined;
  let stopA2a: () => Promise<void> = async () => undefined;
  const uninstall = installShutdownHandlers(
    async () => {
      await settleWorkflowCalls();
      await stopA2a();
      await stop();
      await supervisor?.shutdown();
    },
    () => {
      killRunningScripts();
      for (const name of supervisor?.names() ?? []) supervisor?.server(name).killNow();
    },
  );
  try {
    if (a2aPort !== undefined) {
      const a2a = await serveA2a({ project, host: flags.host, port: a2aPort, version: packageVersion, token, supervisor, shutdown: shutdown.signal, onBug: options.onBug });
      stopA2a = () => a2a.close();
      warnWildcard(flags.host, io);
      say(`orch serve: the team as an A2A agent (${a2aSkills(project)}) at ${a2a.url}${token === undefined ? '' : ' (bearer token required)'}`);
      if (port === undefined) await new Promise<never>(() => undefined);
    }
    if (port === undefined) {
      const server = createToolServer(project, options);
      const closed = new Promise<void>((resolve) => (server.onclose = resolve));
      stop = () => server.close();
      await server.connect(new StdioServerTransport());
      // The SDK's stdio transport ignores end of input; a client closing stdin is done.
      process.stdin.once('end', () => void server.close());
      say(`orch serve: ${served(project, expose)} on stdio`);
      // Ends when the client closes stdin; in-flight calls are aborted with the session.
      await closed;
    } else {
      const http = await serveHttp({ host: flags.host, port, createServer: () => createToolServer(project, options), onError: options.onBug });
      stop = () => http.close();
      if (a2aPort === undefined) warnWildcard(flags.host, io);
      say(`orch serve: ${served(project, expose)} at ${http.url}`);
      // Serves until SIGINT/SIGTERM, whose handler stops the server and exits.
      await new Promise<never>(() => undefined);
    }
  } finally {
    await supervisor?.shutdown();
    uninstall();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  return ExitCode.ok;
}

/** The Gantz CLI's port when its gantz.yaml names none. */
const GANTZ_DEFAULT_PORT = 3000;

function parsePort(text: string, flag: '--http' | '--a2a'): number {
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new OrchError('ORCH_USAGE', `${flag} needs a port number (0-65535), not ${JSON.stringify(text)}`, {
      hint: `e.g. orch serve ${flag} ${flag === '--http' ? 3000 : 4000}; 0 picks a free port`,
    });
  }
  return port;
}

/** `--token-env VAR`: the token is VAR's value, which must be set and not empty. */
function bearerToken(flags: ServeFlags, env: NodeJS.ProcessEnv): string | undefined {
  if (flags.tokenEnv === undefined) return undefined;
  if (flags.a2a === undefined) throw new OrchError('ORCH_USAGE', '--token-env applies to the A2A server', { hint: 'add --a2a <port>' });
  const value = env[flags.tokenEnv];
  if (value === undefined || value.trim() === '') {
    throw new OrchError('ORCH_USAGE', `--token-env names ${flags.tokenEnv}, which is not set`, { hint: `export ${flags.tokenEnv}=<a long random token>, then serve again` });
  }
  return value.trim();
}

function warnWildcard(host: string, io: Io): void {
  if (isWildcard(host)) {
    io.stderr.write(`orch serve: warning: bound to ${host}, so the Host header cannot be checked against DNS rebinding (a browser's Origin must still match it)\n`);
  }
}

function a2aSkills(project: Project): string {
  const workflows = servedWorkflows(project).length;
  return `${workflows} workflow skill${workflows === 1 ? '' : 's'}${orchestratorRole(project) ? ' and the orchestrator' : ''}`;
}

function served(project: Project, expose: readonly string[]): string {
  const workflows = servedWorkflows(project).length;
  const gateway = expose.length > 0 ? ` and the tools of ${expose.join(', ')}` : '';
  return `${declaredTools(project.tools).length} tools${workflows > 0 ? ` and ${workflows} workflow${workflows === 1 ? '' : 's'}` : ''}${gateway}`;
}
