import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OrchError } from '../errors.js';
import { suggest } from '../util/suggest.js';
import { readJournal } from './journal.js';
import { RunLock } from './run-lock.js';
import { foldRun, type RunState } from './run-state.js';

/** Where a project's runs live: `<state>/runs/<id>/journal.jsonl` (+ `lock`). */
function runsDir(stateDir: string): string {
  return path.join(stateDir, 'runs');
}

export function runPaths(stateDir: string, runId: string): { dir: string; journal: string; lock: string } {
  const dir = path.join(runsDir(stateDir), runId);
  return { dir, journal: path.join(dir, 'journal.jsonl'), lock: path.join(dir, 'lock') };
}

/** A new run id: sortable by start time, unique enough for one project. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function createRunDir(stateDir: string, runId: string): Promise<void> {
  const dir = runPaths(stateDir, runId).dir;
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new OrchError('ORCH_STATE_DIR', `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      hint: `orch keeps its state in ${stateDir}; make it a writable directory, or set ORCH_STATE_DIR`,
    });
  }
}

/**
 * A run's state from its journal. A run recorded as running whose process is gone
 * (killed, crashed, power lost) is reported as interrupted: resumable.
 */
export async function loadRun(stateDir: string, runId: string): Promise<RunState> {
  const paths = runPaths(stateDir, runId);
  if (!existsSync(paths.journal)) {
    const ids = await listRunIds(stateDir);
    const guess = suggest(runId, ids);
    throw new OrchError('ORCH_UNKNOWN_RUN', `there is no run \`${runId}\``, {
      hint: guess ? `did you mean \`${guess}\`?` : ids.length ? 'run `orch runs` to list the runs' : 'this project has no runs yet',
    });
  }
  const state = foldRun(await readJournal(paths.journal));
  if (!state) throw new OrchError('ORCH_CORRUPT_RUN', `the journal of run ${runId} does not start with run_started`);
  if (state.status === 'running' && !RunLock.isHeld(paths.lock)) state.status = 'interrupted';
  return state;
}

async function listRunIds(stateDir: string): Promise<string[]> {
  try {
    const entries = await readdir(runsDir(stateDir), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Every run of the project, oldest first; runs whose journal cannot be read are listed apart. */
export async function listRuns(stateDir: string): Promise<{ runs: RunState[]; unreadable: { id: string; reason: string }[] }> {
  const runs: RunState[] = [];
  const unreadable: { id: string; reason: string }[] = [];
  for (const id of await listRunIds(stateDir)) {
    try {
      runs.push(await loadRun(stateDir, id));
    } catch (err) {
      // A directory being created right now has no journal yet; anything else is worth saying.
      if (existsSync(runPaths(stateDir, id).journal)) unreadable.push({ id, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return { runs, unreadable };
}
