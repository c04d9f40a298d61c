import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Project } from '../config/model.js';
import type { SharedRuns } from '../engine/redis/shared-runs.js';
import type { GlobalOptions } from './context.js';

/**
 * The project, when it may schedule on a queue engine, for a command that reads or decides
 * runs. Commands such as `orch runs` work without a valid project, so a project that does
 * not load is the local engine here (the command reports what it can). Most projects name
 * no engine: that is seen from the team file's text, without loading the project.
 */
async function engineProject(globals: GlobalOptions, project?: Project): Promise<Project | undefined> {
  if (project) return project;
  if (!mayNameEngine(globals)) return undefined;
  const { loadProject } = await import('../config/load.js');
  try {
    return (await loadProject({ dir: globals.dir, config: globals.config, team: globals.team })).project;
  } catch {
    return undefined;
  }
}

/** The queue engine's shared runs, when the project schedules on one; the caller closes it. */
export async function sharedFor(globals: GlobalOptions, stateDir: string, project?: Project): Promise<SharedRuns | undefined> {
  const loaded = await engineProject(globals, project);
  return loaded && (await import('../engine/choose.js')).sharedRuns(loaded, stateDir);
}

/** Whether ORCH_ENGINE, or the team file's text, could name a queue engine. */
function mayNameEngine(globals: GlobalOptions): boolean {
  const variable = process.env.ORCH_ENGINE?.trim();
  if (variable !== undefined && variable !== '') return variable !== 'local';
  const names = globals.team !== undefined ? [globals.team] : ['agent-team.yaml', 'agent-team.yml'];
  return names.some((name) => {
    try {
      return /^(engine|state_management)\s*:/m.test(readFileSync(path.resolve(globals.dir, name), 'utf8'));
    } catch {
      return false;
    }
  });
}

/** Brings this machine's copies of the runs (or of one) up to date before a command reads them. */
export async function pullShared(globals: GlobalOptions, stateDir: string, only?: string, project?: Project): Promise<void> {
  const loaded = await engineProject(globals, project);
  if (loaded) await (await import('../engine/choose.js')).pullRuns(loaded, stateDir, only);
}
