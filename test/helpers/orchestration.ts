import '../../src/orchestration/register.js';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/config/load.js';
import type { Project } from '../../src/config/model.js';
import { invokeTool } from '../../src/tools/invoke.js';

export const ORCHESTRATION_FIXTURE = fileURLToPath(new URL('../fixtures/orchestration', import.meta.url));

/** The default team: generalist workers, an `add` specialist and process-isolated agents. */
export function teamYaml(options: { workers?: number; coordination?: string; extra?: string } = {}): string {
  return `team: { name: test-team, coordination: ${options.coordination ?? 'centralized'} }
agents:
  - { role: worker, count: ${options.workers ?? 4} }
  - { role: adder, count: 2, tools: [add] }
  - { role: isolated, count: 2, isolation: process, tools: [pid, fail_if] }
${options.extra ?? ''}`;
}

export interface OrchProject {
  dir: string;
  stateDir: string;
  project: Project;
  call(tool: string, input: Record<string, unknown>): Promise<unknown>;
  cleanup(): void;
}

export interface ProjectExtras {
  /** Entries added to gantz.yaml's `tools:` map, indented by two spaces. */
  tools?: string;
  /** Further files by path relative to the project, such as handler modules. */
  files?: Record<string, string>;
}

/** The fixture's tools in a temp dir with the given team, loaded and ready to call. */
export async function orchProject(team = teamYaml(), extras: ProjectExtras = {}): Promise<OrchProject> {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-orch-'));
  cpSync(ORCHESTRATION_FIXTURE, dir, { recursive: true });
  writeFileSync(path.join(dir, 'agent-team.yaml'), team);
  if (extras.tools) appendFileSync(path.join(dir, 'gantz.yaml'), extras.tools);
  for (const [file, text] of Object.entries(extras.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  const { project } = await loadProject({ dir, env: {} });
  return {
    dir,
    stateDir: path.join(dir, '.orch'),
    project,
    call: async (tool, input) => (await invokeTool(project, tool, input)).value,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Results come back as `unknown` through invokeTool; these tests know the shape they asked for. */
export async function callAs<T>(p: OrchProject, tool: string, input: Record<string, unknown>): Promise<T> {
  return (await p.call(tool, input)) as T;
}

/** A small deterministic PRNG, so a failing property case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
