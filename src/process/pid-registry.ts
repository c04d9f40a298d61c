import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { groupMembers, identify, isRunning, markedProcesses, type ProcessIdentity } from './identity.js';
import type { StopTimings } from './stop.js';
import { ProcessTree } from './tree.js';
import { stateWriteError } from '../util/fs-errors.js';

/**
 * What a recorded process is: an MCP server, or a script tool. A script's process leads
 * its own process group (src/tools/script.ts spawns it detached), so the whole group is
 * reaped, even after its leader has exited.
 */
export type ProcessKind = 'server' | 'script';

/**
 * One process orch started, written under `<state>/pids/` while it runs. The owner is
 * the orch process that started it: when the owner is gone but the process is not, orch
 * was killed before it could end it, and the next orch command reaps it with its tree.
 * Only identities are stored, never the command line, which may hold secrets.
 */
export interface PidRecord {
  kind: ProcessKind;
  /** The server's or the tool's name. */
  name: string;
  /**
   * Servers only: the name again, under the key orch read before records had a `kind`,
   * so that such a version still reaps the servers a newer one left behind.
   */
  server?: string;
  pid: number;
  startTime: string;
  owner: ProcessIdentity;
  /**
   * Descendants known when the record was last written. A process re-parented away from
   * an exited server can no longer be found from it, so it is reaped from here.
   */
  members?: ProcessIdentity[];
  /**
   * The process's tag (PROCESS_TAG_VARIABLE), which its descendants inherit: they are found
   * by it however they left its tree, group or session.
   */
  tag?: string;
}

const PIDS_DIR = 'pids';

function selfIdentity(): ProcessIdentity | undefined {
  return identify(process.pid);
}

function recordFile(stateDir: string, pid: number): string {
  return path.join(stateDir, PIDS_DIR, `${pid}.json`);
}

/** The record of one running process, kept up to date with the descendants it starts. */
export interface PidRegistration {
  /** Rewrites the record with these descendants (all that are known, not only new ones). */
  setMembers(members: ProcessIdentity[]): void;
  remove(): void;
}

/** Writes the record of a freshly started process (and the tag it was started with). */
export function recordProcess(stateDir: string, name: string, id: ProcessIdentity, kind: ProcessKind = 'server', tag?: string): PidRegistration {
  const owner = selfIdentity();
  // No /proc: identities cannot be checked, so none are kept.
  if (!owner) return { setMembers: () => {}, remove: () => {} };
  const record: PidRecord = {
    kind,
    name,
    ...(kind === 'server' && { server: name }),
    pid: id.pid,
    startTime: id.startTime,
    owner,
    ...(tag !== undefined && { tag }),
  };
  const file = recordFile(stateDir, id.pid);
  const write = () => {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(record)}\n`);
    } catch (err) {
      // Half a record is no record: the next command would only have to remove it.
      try {
        rmSync(file, { force: true });
      } catch {
        // Its folder cannot be reached either: nothing was written.
      }
      throw stateWriteError(err, file, stateDir);
    }
  };
  write();
  let removed = false;
  return {
    setMembers(members) {
      if (removed) return;
      record.members = members.filter((m) => m.pid !== id.pid);
      write();
    },
    remove() {
      removed = true;
      rmSync(file, { force: true });
    },
  };
}

/** Writes the record of a freshly started process; returns a function that removes it. */
export function registerPid(stateDir: string, name: string, id: ProcessIdentity, kind: ProcessKind = 'server', tag?: string): () => void {
  return recordProcess(stateDir, name, id, kind, tag).remove;
}

function readRecord(file: string): PidRecord | undefined {
  try {
    return toRecord(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

function toRecord(value: unknown): PidRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<PidRecord>; // narrowed field by field below
  if (typeof r.pid !== 'number' || typeof r.startTime !== 'string') return undefined;
  if (typeof r.owner?.pid !== 'number' || typeof r.owner.startTime !== 'string') return undefined;
  const { pid, startTime, owner } = r;
  const members = Array.isArray(r.members) ? r.members.filter(isIdentity) : [];
  const extra = { ...(members.length > 0 && { members }), ...(typeof r.tag === 'string' && /^[0-9a-f]+$/.test(r.tag) && { tag: r.tag }) };
  // A record written before records had a `kind` is a server's.
  if (r.kind === undefined && typeof r.server === 'string') {
    return { kind: 'server', name: r.server, server: r.server, pid, startTime, owner, ...extra };
  }
  if ((r.kind === 'server' || r.kind === 'script') && typeof r.name === 'string') {
    return { kind: r.kind, name: r.name, ...(typeof r.server === 'string' && { server: r.server }), pid, startTime, owner, ...extra };
  }
  return undefined;
}

function isIdentity(value: unknown): value is ProcessIdentity {
  if (typeof value !== 'object' || value === null) return false;
  return 'pid' in value && typeof value.pid === 'number' && 'startTime' in value && typeof value.startTime === 'string';
}

/** The records of the processes orch processes of the project have started and not yet ended. */
export function listRecords(stateDir: string): PidRecord[] {
  let names: string[];
  try {
    names = readdirSync(path.join(stateDir, PIDS_DIR));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.json')).flatMap((n) => readRecord(path.join(stateDir, PIDS_DIR, n)) ?? []);
}

/**
 * What is left of a recorded process: itself, the descendants recorded with it and, for
 * a script, the members of the process group it led; each only while its identity still
 * matches. The tree built from them finds their descendants in turn.
 */
function leftovers(record: PidRecord): ProcessTree | undefined {
  const root = { pid: record.pid, startTime: record.startTime };
  const tree = new ProcessTree(root);
  for (const member of record.members ?? []) tree.adopt(member);
  if (record.kind === 'script') for (const member of groupMembers(root)) tree.adopt(member);
  if (record.tag !== undefined) for (const member of markedProcesses({ tag: record.tag })) tree.adopt(member);
  return tree.alive().length > 0 ? tree : undefined;
}

/**
 * Ends the servers and scripts, with their process trees, of orch processes that no
 * longer run, and forgets their records. A process is acted on only when its pid still
 * belongs to the very process that was recorded (same start time): a reused pid is never
 * signalled. The recorded process may have exited while its descendants run on; they are
 * reaped all the same. Returns what was reaped.
 */
export async function reapOrphans(stateDir: string, timings: StopTimings): Promise<PidRecord[]> {
  let names: string[];
  try {
    names = readdirSync(path.join(stateDir, PIDS_DIR));
  } catch {
    return [];
  }
  const reaped: PidRecord[] = [];
  const stops: Promise<void>[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = path.join(stateDir, PIDS_DIR, name);
    const record = readRecord(file);
    if (record && isRunning(record.owner)) continue; // its orch still runs and owns it
    const tree = record && leftovers(record);
    if (record && tree) {
      reaped.push(record);
      // A server's stdin is closed, so it already had its chance to exit on EOF; a script
      // has none, and the call that started it is over, so neither gets a grace period.
      stops.push(tree.stop({ graceMs: 0, termMs: timings.termMs }));
    }
    stops.push(Promise.resolve().then(() => rmSync(file, { force: true })));
  }
  await Promise.all(stops);
  return reaped;
}
