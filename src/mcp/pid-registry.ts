import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { identify, isRunning, type ProcessIdentity } from './proc.js';
import { ProcessTree, type StopTimings } from './process-tree.js';

/**
 * One server process orch started, written under `<state>/pids/` while it runs. The owner
 * is the orch process that started it: when the owner is gone but the server is not,
 * orch was killed before it could shut down, and the next orch command reaps the server.
 * Only identities are stored, never the command line, which may hold secrets.
 */
export interface PidRecord {
  server: string;
  pid: number;
  startTime: string;
  owner: ProcessIdentity;
}

const PIDS_DIR = 'pids';

function selfIdentity(): ProcessIdentity | undefined {
  return identify(process.pid);
}

function recordFile(stateDir: string, pid: number): string {
  return path.join(stateDir, PIDS_DIR, `${pid}.json`);
}

/** Writes the record of a freshly started server; returns a function that removes it. */
export function registerPid(stateDir: string, server: string, id: ProcessIdentity): () => void {
  const owner = selfIdentity();
  if (!owner) return () => {}; // no /proc: identities cannot be checked, so none are kept
  const record: PidRecord = { server, pid: id.pid, startTime: id.startTime, owner };
  const file = recordFile(stateDir, id.pid);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record)}\n`);
  return () => rmSync(file, { force: true });
}

function readRecord(file: string): PidRecord | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isPidRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isPidRecord(value: unknown): value is PidRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<PidRecord>; // narrowed field by field below
  return (
    typeof r.server === 'string' &&
    typeof r.pid === 'number' &&
    typeof r.startTime === 'string' &&
    typeof r.owner?.pid === 'number' &&
    typeof r.owner.startTime === 'string'
  );
}

/**
 * Ends the servers of orch processes that no longer run, and forgets their records. A
 * record is acted on only when the pid still belongs to the very process that was
 * started (same start time): a reused pid is never signalled. Returns what was reaped.
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
    const server = record && { pid: record.pid, startTime: record.startTime };
    if (record && server && isRunning(server)) {
      reaped.push(record);
      // Nobody holds its stdin any more, so it already had its chance to exit on EOF.
      stops.push(new ProcessTree(server).stop({ graceMs: 0, termMs: timings.termMs }));
    }
    stops.push(Promise.resolve().then(() => rmSync(file, { force: true })));
  }
  await Promise.all(stops);
  return reaped;
}
