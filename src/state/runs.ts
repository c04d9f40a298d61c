import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OrchError } from '../errors.js';
import { ensureStateFolder, errnoOf, stateReadError, stateWriteError } from '../util/fs-errors.js';
import { suggest } from '../util/suggest.js';
import { readJournal } from './journal.js';
import { RunLock } from './run-lock.js';
import { foldRun, type RunState } from './run-state.js';

/** Where a project's runs live: `<state>/runs/<id>/journal.jsonl` (+ `lock`). */
function runsDir(stateDir: string): string {
  return path.join(stateDir, 'runs');
}

/**
 * What a run id looks like: its start time to the second, then random hex (4 digits in
 * ids of orch 0.1, 12 now). Nothing else names a run, so a path such as `../../x` given
 * to `logs`, `approve` or `resume` never reaches the file system.
 */
export const RUN_ID_PATTERN = /^\d{8}-\d{6}-[0-9a-f]{4,32}$/;

export function isRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value);
}

/** The files of a run; throws ORCH_UNKNOWN_RUN for anything that is not a run id. */
export function runPaths(stateDir: string, runId: string): { dir: string; journal: string; lock: string } {
  if (!isRunId(runId)) {
    throw new OrchError('ORCH_UNKNOWN_RUN', `\`${runId}\` is not a run id`, {
      hint: 'run ids look like 20260101-120000-0123456789ab; `orch runs` lists them',
    });
  }
  const dir = path.join(runsDir(stateDir), runId);
  return { dir, journal: path.join(dir, 'journal.jsonl'), lock: path.join(dir, 'lock') };
}

/**
 * A new run id: sortable by start time; 48 random bits keep ids made in the same second
 * apart, and `createRunDir` makes sure of it.
 */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(6).toString('hex')}`;
}

/** Ids tried before giving up: a collision is already a one in 2^48 event. */
const CREATE_ATTEMPTS = 10;

/**
 * Creates the folder of a new run and returns its id. The folder is created exclusively:
 * an id another run took first (in this process or another) is never shared, the next
 * id is tried instead. `nextId` is for tests that force a collision.
 */
export async function createRunDir(stateDir: string, nextId: () => string = newRunId): Promise<string> {
  const parent = runsDir(stateDir);
  await ensureStateFolder(parent, stateDir);
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    const runId = nextId();
    const { dir } = runPaths(stateDir, runId);
    try {
      await mkdir(dir);
      return runId;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw stateWriteError(err, dir, stateDir);
    }
  }
  throw new OrchError('ORCH_STATE_WRITE', `could not find a free run id in ${parent} after ${CREATE_ATTEMPTS} tries`, {
    hint: 'another program keeps creating folders there; stop it, or set ORCH_STATE_DIR to another folder',
  });
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
  if (state.status === 'running' && !RunLock.isHeld(paths.lock) && !drivenElsewhere(paths.dir)) state.status = 'interrupted';
  return state;
}

/**
 * Whether another machine drives the run, as the queue engine's shared state last said
 * (`elsewhere`: the holder, then until when its lock lasts).
 */
function drivenElsewhere(dir: string): boolean {
  try {
    const [, until] = readFileSync(path.join(dir, 'elsewhere'), 'utf8').split('\n');
    return Number(until) > Date.now();
  } catch {
    return false;
  }
}

/** The ids of every run in the state directory, oldest first. */
export async function listRunIds(stateDir: string): Promise<string[]> {
  try {
    const entries = await readdir(runsDir(stateDir), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && isRunId(e.name)).map((e) => e.name).sort();
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw stateReadError(err, runsDir(stateDir));
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
