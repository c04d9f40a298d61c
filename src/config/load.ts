import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { ConfigError, type Issue } from '../errors.js';
import { IssueSink, type ToolReference } from './locate.js';
import type { Project, ProjectFiles, ToolDef } from './model.js';
import { validateSchema, type FileKind, type SchemaFinding } from './schema.js';
import { normaliseServers, type ServerSet } from './servers.js';
import type { VarScope } from './expand.js';
import { displayPath, readSource, type SourceFile } from './source.js';
import { checkRules } from './rules/index.js';
import { normaliseTeam, type RawTeamFile } from './team.js';
import { addBuiltinTools, normaliseTools } from './tools.js';

export interface LoadOptions {
  /** Project directory (default: the cwd). */
  dir?: string;
  /** Tools file, relative to `dir` (default gantz.yaml / gantz.yml). */
  config?: string;
  /** Team file, relative to `dir` (default agent-team.yaml / agent-team.yml). */
  team?: string;
  /** Environment for `${VAR}` expansion (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Inspection {
  /** Present when every file parsed and passed its schema (it may still have rule errors). */
  project?: Project;
  issues: Issue[];
  /**
   * Errors of single MCP servers (an unset variable, a bad field): they hold up only what
   * needs that server, so they are left out of `issues`; `orch validate` reports them.
   */
  serverIssues: Issue[];
  /** The files that were found, by kind. */
  files: ProjectFiles;
  /** Text of each file read, by displayed name (for code frames). */
  texts: Map<string, string>;
  /** Tool names only a running MCP server can confirm (`ORCH_TOOL_UNVERIFIED`), for `validate --connect`. */
  unverified: ToolReference[];
}

const DEFAULT_NAMES: Record<FileKind, string[]> = {
  gantz: ['gantz.yaml', 'gantz.yml'],
  team: ['agent-team.yaml', 'agent-team.yml'],
  mcp: ['.mcp.json'],
};

/** The keys of each kind of file that hold MCP servers by name. */
const SERVER_KEYS: Record<FileKind, readonly string[]> = {
  gantz: ['mcpServers'],
  team: ['mcpServers'],
  mcp: ['mcpServers', 'servers'],
};

/**
 * An MCP client's own file (`.mcp.json`, VS Code's `.vscode/mcp.json`, `~/.cursor/mcp.json`),
 * which `--config` may name in place of gantz.yaml.
 */
function isMcpClientFile(file: string): boolean {
  return /mcp\.json$/i.test(path.basename(file));
}

/**
 * Reads, validates and normalises a project's files, collecting every problem in one
 * pass. Never throws for a problem in the user's files.
 */
export async function inspectProject(options: LoadOptions = {}): Promise<Inspection> {
  const dir = path.resolve(options.dir ?? process.cwd());
  const env = options.env ?? process.env;
  const issues: Issue[] = [];
  const files: ProjectFiles = {};
  const texts = new Map<string, string>();
  const none = (): Inspection => ({ issues, serverIssues: [], files, texts, unverified: [] });

  if (!existsSync(dir)) {
    issues.push({ severity: 'error', code: 'ORCH_NO_PROJECT_DIR', message: `project directory ${dir} does not exist`, file: dir, hint: 'check the path given with -C' });
    return none();
  }
  const given = (kind: FileKind, explicit: string, flag: string): void => {
    const file = path.resolve(dir, explicit);
    if (existsSync(file)) files[kind] = file;
    else issues.push({ severity: 'error', code: 'ORCH_FILE_NOT_FOUND', message: `${explicit} (given with ${flag}) does not exist`, file: explicit, hint: `check the path; it is relative to ${dir}` });
  };
  const discover = (kind: FileKind): void => {
    const found = DEFAULT_NAMES[kind].map((n) => path.join(dir, n)).find((f) => existsSync(f));
    if (found) files[kind] = found;
  };
  // `--config .mcp.json` (or another MCP client's file) is that file, read as what it is.
  const mcpConfig = options.config !== undefined && isMcpClientFile(options.config);
  if (options.config === undefined) discover('gantz');
  else given(mcpConfig ? 'mcp' : 'gantz', options.config, '--config');
  if (options.team === undefined) discover('team');
  else given('team', options.team, '--team');
  if (!mcpConfig) discover('mcp');
  if (issues.length > 0) return none();
  if (!files.gantz && !files.team && !files.mcp) {
    issues.push({
      severity: 'error',
      code: 'ORCH_NO_CONFIG',
      message: `no gantz.yaml, agent-team.yaml or .mcp.json in ${dir}`,
      file: dir,
      hint: 'run `orch init --template orchestration-system` to create a project, or point at one with -C <dir>',
    });
    return none();
  }

  const sources = new Map<string, SourceFile>();
  const byKind: Partial<Record<FileKind, SourceFile>> = {};
  const serverProblems: Partial<Record<FileKind, ServerProblems>> = {};
  for (const kind of ['gantz', 'team', 'mcp'] as const) {
    const file = files[kind];
    if (!file) continue;
    const read = await readSource(file, dir, kind === 'mcp' ? 'jsonc' : 'yaml');
    if (!read.ok) {
      issues.push(...read.issues);
      if (read.text !== undefined) texts.set(displayPath(file, dir), read.text);
      continue;
    }
    sources.set(file, read.source);
    texts.set(read.source.display, read.source.text);
    const split = splitServerFindings(validateSchema(kind, read.source), SERVER_KEYS[kind]);
    issues.push(...split.issues);
    serverProblems[kind] = split.servers;
    if (!split.issues.some((i) => i.severity === 'error')) byKind[kind] = read.source;
  }
  const complete = (['gantz', 'team', 'mcp'] as const).every((kind) => !files[kind] || byKind[kind]);

  // Files that passed their schema are checked further even when another did not, so one
  // pass shows as much as can be known; rules that span files wait for all of them.
  const sink = new IssueSink(sources);
  const valid: ProjectFiles = { gantz: byKind.gantz && files.gantz, team: byKind.team && files.team, mcp: byKind.mcp && files.mcp };
  const project = normalise(dir, valid, byKind, serverProblems, sink, env);
  checkRules(project, sink, { crossFile: complete });
  issues.push(...sink.issues);
  const serverIssues = [...project.servers.values()].flatMap((s) => s.problems ?? []);
  return complete
    ? { project, issues, serverIssues, files, texts, unverified: sink.unverifiedTools }
    : { issues, serverIssues, files, texts, unverified: [] };
}

/** Schema errors inside one server's entry, by server name and the key holding the servers. */
type ServerProblems = Map<string, Map<string, Issue[]>>;

/** Sets a file's schema errors inside a single server's entry apart from the file's own. */
function splitServerFindings(findings: SchemaFinding[], serverKeys: readonly string[]): { issues: Issue[]; servers: ServerProblems } {
  const issues: Issue[] = [];
  const servers: ServerProblems = new Map();
  for (const { issue, keyPath } of findings) {
    const [key, name] = keyPath;
    if (issue.severity !== 'error' || typeof key !== 'string' || !serverKeys.includes(key) || typeof name !== 'string') {
      issues.push(issue);
      continue;
    }
    const byName = servers.get(key) ?? new Map<string, Issue[]>();
    servers.set(key, byName);
    byName.set(name, [...(byName.get(name) ?? []), issue]);
  }
  return { issues, servers };
}

function normalise(
  dir: string,
  files: ProjectFiles,
  byKind: Partial<Record<FileKind, SourceFile>>,
  serverProblems: Partial<Record<FileKind, ServerProblems>>,
  sink: IssueSink,
  env: NodeJS.ProcessEnv,
): Project {
  const set: ServerSet = { servers: new Map(), disabled: new Map() };
  const tools = new Map<string, ToolDef>();
  const gantz = byKind.gantz?.data as { name?: string; version?: string | number; tools?: never; server?: { port?: number }; serve?: { expose?: string[] } } | undefined;
  const team = byKind.team?.data as RawTeamFile | undefined;
  const scope: VarScope = { env, folders: { workspaceFolder: dir, userHome: homedir() } };

  for (const kind of ['gantz', 'team', 'mcp'] as const) {
    const file = files[kind];
    const data = byKind[kind]?.data as Record<string, unknown> | undefined;
    if (!file || !data) continue;
    for (const key of SERVER_KEYS[kind]) {
      const raw = data[key] as Record<string, unknown> | undefined;
      const schemaProblems = serverProblems[kind]?.get(key) ?? new Map<string, Issue[]>();
      normaliseServers({ raw, origin: { file, path: [key] }, schemaProblems }, set, sink, scope, dir);
    }
  }
  if (files.gantz) {
    normaliseTools(gantz?.tools, { file: files.gantz, path: ['tools'] }, tools, { sink, scope, configDir: path.dirname(files.gantz) });
  }
  const teamPart = files.team && team ? normaliseTeam(team, files.team, sink, scope) : { agents: new Map(), workflows: new Map() };
  // A name the files give a tool (even one that failed to load) or a workflow stays theirs.
  addBuiltinTools(tools, new Set([...sink.brokenTools, ...teamPart.workflows.keys()]));
  return {
    dir,
    files,
    name: gantz?.name,
    version: gantz?.version === undefined ? undefined : String(gantz.version),
    ...(gantz?.server?.port === undefined ? {} : { servePort: gantz.server.port }),
    ...(gantz?.serve?.expose === undefined ? {} : { serveExpose: gantz.serve.expose }),
    tools,
    servers: set.servers,
    disabledServers: set.disabled,
    ...teamPart,
  };
}

export interface LoadResult {
  project: Project;
  /** Warnings (errors make loadProject throw). */
  issues: Issue[];
}

/** Loads a project for a command to run; throws ConfigError listing every problem when any is an error. */
export async function loadProject(options: LoadOptions = {}): Promise<LoadResult> {
  const { project, issues, texts } = await inspectProject(options);
  if (!project || issues.some((i) => i.severity === 'error')) throw new ConfigError(issues, texts);
  return { project, issues };
}
