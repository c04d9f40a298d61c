import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { OrchError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ensureStateFolder, errnoOf, stateReadError, stateWriteError } from '../util/fs-errors.js';

/**
 * The kill switch's mark in the state directory (`<state>/halted`): while it is there, no
 * new run starts in the project. `orch stop --all` sets it, `orch start --all` lifts it.
 */
export interface Halt {
  at: string;
  by: string;
  pid: number;
  /** The runs it stopped, for `orch start --all` to say how to continue them. */
  stopped: string[];
}

export function haltFile(stateDir: string): string {
  return path.join(stateDir, 'halted');
}

/** Whether the kill switch is on; cheap enough for every new run. */
export function isHalted(stateDir: string): boolean {
  return existsSync(haltFile(stateDir));
}

export async function readHalt(stateDir: string): Promise<Halt | undefined> {
  const file = haltFile(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw stateReadError(err, file);
  }
  try {
    const value = JSON.parse(text) as Partial<Halt>;
    return {
      at: typeof value.at === 'string' ? value.at : '',
      by: typeof value.by === 'string' ? value.by : 'unknown',
      pid: typeof value.pid === 'number' ? value.pid : 0,
      stopped: Array.isArray(value.stopped) ? value.stopped.filter((s): s is string => typeof s === 'string') : [],
    };
  } catch {
    // A mark cut short is still a mark: the switch is on.
    return { at: '', by: 'unknown', pid: 0, stopped: [] };
  }
}

/** Turns the kill switch on (or records more stopped runs while it is on). */
export async function writeHalt(stateDir: string, halt: Halt): Promise<void> {
  const file = haltFile(stateDir);
  await ensureStateFolder(stateDir, stateDir);
  try {
    await writeFileAtomic(file, `${JSON.stringify(halt, null, 2)}\n`);
  } catch (err) {
    throw stateWriteError(err, file, stateDir);
  }
}

/** Lifts the kill switch; returns what it was, if it was on. */
export async function clearHalt(stateDir: string): Promise<Halt | undefined> {
  const halt = await readHalt(stateDir);
  try {
    await rm(haltFile(stateDir), { force: true });
  } catch (err) {
    throw stateWriteError(err, haltFile(stateDir), stateDir);
  }
  return halt;
}

/** Refuses to start `what` while the kill switch is on. */
export function assertNotHalted(stateDir: string, what: string): void {
  if (isHalted(stateDir)) throw haltedError(what, 'the kill switch is on (`orch stop --all`), and no new run starts in this project');
}

/** `what` refused because a kill switch is on; `why` says which. */
export function haltedError(what: string, why: string): OrchError {
  return new OrchError('ORCH_HALTED', `${what} is refused: ${why}`, {
    hint: 'lift it with `orch start --all`; `orch resume <run>` continues one stopped run while it stays on',
  });
}
