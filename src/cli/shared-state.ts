import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Project } from '../config/model.js';
import type { SharedRuns } from '../engine/redis/shared-runs.js';
import type { GlobalOptions } from './context.js';

/**
 * The queue engine's shared runs for a command that reads or decides runs, when the project
 * schedules on one. Commands such as `orch runs` work without a valid project, so a project
 * that does not load is the local engine here (the command reports what it can).
 */
export async function sharedFor(globals: GlobalOptions, stateDir: string, project?: Project): Promise<SharedRuns | undefined> {
  let loaded = project;
  // Most projects name no engine: that is seen without loading (and validating) the whole project.
  if (!loaded && !mayNameEngine(globals)) return undefined;
  // Loaded only then: `orch runs` and `orch logs` start without the config loader or the engines.
  const [{ loadProject }, { sharedRuns }] = await Promise.all([import('../config/load.js'), import('../engine/choose.js')]);
  if (!loaded) {
    try {
      loaded = (await loadProject({ dir: globals.dir, config: globals.config, team: globals.team })).project;
    } catch {
      return undefined;
    }
  }
  return sharedRuns(loaded, stateDir);
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
  const shared = await sharedFor(globals, stateDir, project);
  try {
    await shared?.pull(only);
  } finally {
    shared?.close();
  }
}
