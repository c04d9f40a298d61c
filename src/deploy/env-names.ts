import path from 'node:path';
import { expandEnv } from '../config/env.js';
import type { Project, ProjectFiles } from '../config/model.js';
import { readSource } from '../config/source.js';
import { resolveModel } from '../llm/models.js';

/** An environment variable the deployed project reads: a name only, never its value. */
export interface EnvName {
  name: string;
  /** Referenced somewhere without a default (`${NAME}`), or an LLM provider's key: the worker cannot do without it. */
  required: boolean;
}

/** The project's files that may hold `${VAR}` references. */
function configFiles(files: ProjectFiles): { file: string; format: 'yaml' | 'jsonc' }[] {
  const { gantz, team, mcp } = files;
  return [
    ...(gantz ? [{ file: gantz, format: /mcp\.json$/i.test(path.basename(gantz)) ? ('jsonc' as const) : ('yaml' as const) }] : []),
    ...(team ? [{ file: team, format: 'yaml' as const }] : []),
    ...(mcp ? [{ file: mcp, format: 'jsonc' as const }] : []),
  ];
}

/** Every string of a parsed file, keys aside. */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) yield* strings(item);
}

/**
 * The variables named by `${VAR}` references in the project's files, found with the same
 * parser that expands them (so `$${literal}`, `${{ expressions }}` and comments are not
 * references), against an environment that has none of them: what is read is what the
 * files name, and what is missing has no default.
 */
export async function referencedVariables(files: ProjectFiles, dir: string): Promise<EnvName[]> {
  const read = new Set<string>();
  const required = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, key) => {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  for (const { file, format } of configFiles(files)) {
    const result = await readSource(file, dir, format);
    if (!result.ok) continue; // loading the project reports it
    for (const text of strings(result.source.data)) {
      for (const name of expandEnv(text, env, { workspaceFolder: '', userHome: '' }).missing) required.add(name);
    }
  }
  return [...read].map((name) => ({ name, required: required.has(name) }));
}

/** The API key variables of the LLM providers the project's agents with a model talk to. */
export function providerKeys(project: Project): string[] {
  const keys = new Set<string>();
  for (const agent of project.agents.values()) {
    if (agent.model === undefined) continue;
    try {
      const key = resolveModel(project, agent.role, {}).apiKeyEnv;
      if (key !== undefined) keys.add(key);
    } catch {
      // A model orch cannot place (an OpenAI-compatible server named only by OPENAI_BASE_URL) needs its key named in `models:`.
    }
  }
  return [...keys];
}

/** The variables a deployed worker needs, sorted by name: the files' references and the providers' keys. */
export async function environmentNames(project: Project): Promise<EnvName[]> {
  const names = new Map<string, EnvName>();
  for (const entry of await referencedVariables(project.files, project.dir)) names.set(entry.name, entry);
  for (const key of providerKeys(project)) names.set(key, { name: key, required: true });
  return [...names.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The names of the variables the project's files reference, for loading the project without their values. */
export async function environmentVariablesOf(files: ProjectFiles, dir: string): Promise<string[]> {
  return (await referencedVariables(files, dir)).map((v) => v.name);
}
