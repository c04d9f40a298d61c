import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { sharedRuns } from '../engine/choose.js';
import type { SharedRuns } from '../engine/redis/shared-runs.js';
import type { GlobalOptions } from './context.js';

/**
 * The queue engine's shared runs for a command that reads or decides runs, when the project
 * schedules on one. Commands such as `orch runs` work without a valid project, so a project
 * that does not load is the local engine here (the command reports what it can).
 */
export async function sharedFor(globals: GlobalOptions, stateDir: string, project?: Project): Promise<SharedRuns | undefined> {
  let loaded = project;
  if (!loaded) {
    try {
      loaded = (await loadProject({ dir: globals.dir, config: globals.config, team: globals.team })).project;
    } catch {
      return undefined;
    }
  }
  return sharedRuns(loaded, stateDir);
}

/** Brings this machine's copies of the runs (or of one) up to date before a command reads them. */
export async function pullShared(globals: GlobalOptions, stateDir: string, only?: string): Promise<void> {
  const shared = await sharedFor(globals, stateDir);
  try {
    await shared?.pull(only);
  } finally {
    shared?.close();
  }
}
