import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { identify, isRunning, type ProcessIdentity } from './proc.js';
import { ProcessTree, type StopTimings } from './process-tree.js';

/** What a recorded process is: an MCP server, or a script tool (its process group's leader). */
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
}

const PIDS_DIR = 'pids';

function selfIdentity(): ProcessIdentity | undefined {
  return identify(process.pid);
}

function recordFile(stateDir: string, pid: number): string {
  return path.join(stateDir, PIDS_DIR, `${pid}.json`);
}

/** Writes the record of a freshly started process; returns a function that removes it. */
export function registerPid(stateDir: string, name: string, id: ProcessIdentity, kind: ProcessKind = 'server'): () => void {
  const owner = selfIdentity();
  if (!owner) return () => {}; // no /proc: identities cannot be checked, so none are kept
  const record: PidRecord = { kind, name, ...(kind === 'server' && { server: name }), pid: id.pid, startTime: id.startTime, owner };
  const file = recordFile(stateDir, id.pid);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record)}\n`);
  return () => rmSync(file, { force: true });
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
  // A record written before records had a `kind` is a server's.
  if (r.kind === undefined && typeof r.server === 'string') {
    return { kind: 'server', name: r.server, server: r.server, pid, startTime, owner };
  }
  if ((r.kind === 'server' || r.kind === 'script') && typeof r.name === 'string') {
    return { ...r, kind: r.kind, name: r.name, pid, startTime, owner };
  }
  return undefined;
}

/**
 * Ends the servers and scripts, with their process trees, of orch processes that no
 * longer run, and forgets their records. A record is acted on only when the pid still
 * belongs to the very process that was started (same start time): a reused pid is never
 * signalled. Returns what was reaped.
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
    const root = record && { pid: record.pid, startTime: record.startTime };
    if (record && root && isRunning(root)) {
      reaped.push(record);
      // A server's stdin is closed, so it already had its chance to exit on EOF; a script
      // has none, and the call that started it is over, so neither gets a grace period.
      stops.push(new ProcessTree(root).stop({ graceMs: 0, termMs: timings.termMs }));
    }
    stops.push(Promise.resolve().then(() => rmSync(file, { force: true })));
  }
  await Promise.all(stops);
  return reaped;
}
