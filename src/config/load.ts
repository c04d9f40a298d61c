import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Issue } from '../errors.js';
import { IssueSink, type ToolReference } from './locate.js';
import type { McpServerDef, Project, ProjectFiles, ToolDef } from './model.js';
import { validateSchema, type FileKind } from './schema.js';
import { normaliseServers } from './servers.js';
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

  if (!existsSync(dir)) {
    issues.push({ severity: 'error', code: 'ORCH_NO_PROJECT_DIR', message: `project directory ${dir} does not exist`, file: dir, hint: 'check the path given with -C' });
    return { issues, files, texts, unverified: [] };
  }
  const pick = (kind: FileKind, explicit: string | undefined, flag: string): void => {
    if (explicit !== undefined) {
      const file = path.resolve(dir, explicit);
      if (existsSync(file)) files[kind] = file;
      else issues.push({ severity: 'error', code: 'ORCH_FILE_NOT_FOUND', message: `${explicit} (given with ${flag}) does not exist`, file: explicit, hint: `check the path; it is relative to ${dir}` });
      return;
    }
    const found = DEFAULT_NAMES[kind].map((n) => path.join(dir, n)).find((f) => existsSync(f));
    if (found) files[kind] = found;
  };
  pick('gantz', options.config, '--config');
  pick('team', options.team, '--team');
  pick('mcp', undefined, '');
  if (issues.length > 0) return { issues, files, texts, unverified: [] };
  if (!files.gantz && !files.team) {
    issues.push({
      severity: 'error',
      code: 'ORCH_NO_CONFIG',
      message: `no gantz.yaml or agent-team.yaml in ${dir}`,
      file: dir,
      hint: 'run `orch init --template orchestration-system` to create one, or point at a project with -C <dir>',
    });
    return { issues, files, texts, unverified: [] };
  }

  const sources = new Map<string, SourceFile>();
  const byKind: Partial<Record<FileKind, SourceFile>> = {};
  for (const kind of ['gantz', 'team', 'mcp'] as const) {
    const file = files[kind];
    if (!file) continue;
    const read = await readSource(file, dir);
    if (!read.ok) {
      issues.push(...read.issues);
      if (read.text !== undefined) texts.set(displayPath(file, dir), read.text);
      continue;
    }
    sources.set(file, read.source);
    texts.set(read.source.display, read.source.text);
    const schemaIssues = validateSchema(kind, read.source);
    issues.push(...schemaIssues);
    if (!schemaIssues.some((i) => i.severity === 'error')) byKind[kind] = read.source;
  }
  const complete = (['gantz', 'team', 'mcp'] as const).every((kind) => !files[kind] || byKind[kind]);

  // Files that passed their schema are checked further even when another did not, so one
  // pass shows as much as can be known; rules that span files wait for all of them.
  const sink = new IssueSink(sources);
  const valid: ProjectFiles = { gantz: byKind.gantz && files.gantz, team: byKind.team && files.team, mcp: byKind.mcp && files.mcp };
  const project = normalise(dir, valid, byKind, sink, env);
  checkRules(project, sink, { crossFile: complete });
  issues.push(...sink.issues);
  return complete ? { project, issues, files, texts, unverified: sink.unverifiedTools } : { issues, files, texts, unverified: [] };
}

function normalise(
  dir: string,
  files: ProjectFiles,
  byKind: Partial<Record<FileKind, SourceFile>>,
  sink: IssueSink,
  env: NodeJS.ProcessEnv,
): Project {
  const servers = new Map<string, McpServerDef>();
  const tools = new Map<string, ToolDef>();
  const gantz = byKind.gantz?.data as { name?: string; version?: string | number; tools?: never; mcpServers?: never } | undefined;
  const team = byKind.team?.data as (RawTeamFile & { mcpServers?: never }) | undefined;
  const mcp = byKind.mcp?.data as { mcpServers?: never } | undefined;

  if (files.gantz) normaliseServers(gantz?.mcpServers, { file: files.gantz, path: ['mcpServers'] }, servers, sink, env, dir);
  if (files.team) normaliseServers(team?.mcpServers, { file: files.team, path: ['mcpServers'] }, servers, sink, env, dir);
  if (files.mcp) normaliseServers(mcp?.mcpServers, { file: files.mcp, path: ['mcpServers'] }, servers, sink, env, dir);
  if (files.gantz) {
    normaliseTools(gantz?.tools, { file: files.gantz, path: ['tools'] }, tools, { sink, env, configDir: path.dirname(files.gantz) });
  }
  const teamPart = files.team && team ? normaliseTeam(team, files.team, sink) : { agents: new Map(), workflows: new Map() };
  // A name the files give a tool (even one that failed to load) or a workflow stays theirs.
  addBuiltinTools(tools, new Set([...sink.brokenTools, ...teamPart.workflows.keys()]));
  return {
    dir,
    files,
    name: gantz?.name,
    version: gantz?.version === undefined ? undefined : String(gantz.version),
    tools,
    servers,
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
