import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * A process as the kernel knows it. A pid alone is not an identity: pids are reused, so
 * every decision to signal a process also checks the start time (field 22 of
 * /proc/<pid>/stat, in clock ticks since boot), which no later process can share.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

interface Stat {
  ppid: number;
  pgrp: number;
  startTime: string;
  zombie: boolean;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, pgrp] = fields;
  const startTime = fields[19];
  if (state === undefined || ppid === undefined || pgrp === undefined || startTime === undefined) return undefined;
  return { ppid: Number(ppid), pgrp: Number(pgrp), startTime, zombie: state === 'Z' || state === 'X' };
}

/** The identity of a live process, or undefined when it is gone (or /proc is missing). */
export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat && !stat.zombie ? { pid, startTime: stat.startTime } : undefined;
}

/** True while this very process (same pid, same start time) runs; zombies count as ended. */
export function isRunning(id: ProcessIdentity): boolean {
  const stat = readStat(id.pid);
  return stat !== undefined && !stat.zombie && stat.startTime === id.startTime;
}

/** Every live process, with its stat. */
function liveProcesses(): { pid: number; stat: Stat }[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: { pid: number; stat: Stat }[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && !stat.zombie) found.push({ pid: Number(entry), stat });
  }
  return found;
}

/**
 * The live members of the process group `leader` led, even after the leader itself has
 * exited. Empty when its pid now belongs to another process: the kernel does not reuse a
 * pid while a group of that id has members, so such a group is not the leader's.
 */
export function groupMembers(leader: ProcessIdentity): ProcessIdentity[] {
  const all = liveProcesses();
  const holder = all.find((p) => p.pid === leader.pid);
  if (holder && holder.stat.startTime !== leader.startTime) return [];
  return all.filter((p) => p.stat.pgrp === leader.pid).map((p) => ({ pid: p.pid, startTime: p.stat.startTime }));
}

/** Every live descendant of `pid` (children, grandchildren...), found by walking /proc. */
export function descendants(pid: number): ProcessIdentity[] {
  const children = new Map<number, ProcessIdentity[]>();
  for (const { pid: child, stat } of liveProcesses()) {
    const list = children.get(stat.ppid) ?? [];
    list.push({ pid: child, startTime: stat.startTime });
    children.set(stat.ppid, list);
  }
  const found: ProcessIdentity[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Sends a signal only if the identity still matches; a vanished process is not an error. */
export function signal(id: ProcessIdentity, sig: NodeJS.Signals): void {
  if (!isRunning(id)) return;
  try {
    process.kill(id.pid, sig);
  } catch {
    // It ended between the check and the kill: what we wanted anyway.
  }
}

/**
 * The environment variable that marks every process orch starts (a script, an MCP server)
 * with a tag of its own. Children inherit it, so what a process started is found by its
 * tag even after it has left the process group (`setsid`) and its parent has exited
 * (a double fork re-parents it to init) — the escapes a process tree alone cannot follow.
 * The same kind of cookie that Jenkins' process tree killer uses.
 */
// Spelled in parts: a whole quoted `ORCH_*` string in src is an error code (error-codes.test.ts).
export const PROCESS_TAG_VARIABLE = ['ORCH', 'PROCESS', 'TAG'].join('_');

/** A fresh tag for one started process. */
export function newProcessTag(): string {
  return randomBytes(8).toString('hex');
}

/** What marks the processes that belong to one started process. */
export interface Marks {
  /** Its PROCESS_TAG_VARIABLE value, inherited by everything it starts. */
  tag?: string;
  /**
   * Its stdout and stderr as /proc names them (`pipe:[inode]`, or `socket:[inode]` for the
   * socket pairs Node gives a child): whoever still holds one keeps orch waiting.
   */
  pipes?: readonly string[];
}

/** The names of the pipes (or socket pair ends) `pid` holds as stdout and stderr, while it runs. */
export function stdioPipes(pid: number): string[] {
  const pipes: string[] = [];
  for (const fd of [1, 2]) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('pipe:') || target.startsWith('socket:')) pipes.push(target);
    } catch {
      // Gone already, or no such descriptor.
    }
  }
  return pipes;
}

function hasTag(pid: string, needle: Buffer): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false; // gone, or not ours to read (nor to signal)
  }
  for (let at = environ.indexOf(needle); at !== -1; at = environ.indexOf(needle, at + 1)) {
    if (at === 0 || environ[at - 1] === 0) return true;
  }
  return false;
}

function holdsPipe(pid: string, pipes: ReadonlySet<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return pipes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

/**
 * Every live process (this one aside) carrying the tag, or holding one of the pipes,
 * wherever it stands in the process tree, session or group.
 */
export function markedProcesses(marks: Marks): ProcessIdentity[] {
  const needle = marks.tag === undefined ? undefined : Buffer.from(`${PROCESS_TAG_VARIABLE}=${marks.tag}\0`);
  const pipes = new Set(marks.pipes ?? []);
  if (!needle && pipes.size === 0) return [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: ProcessIdentity[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (!(needle && hasTag(entry, needle)) && !(pipes.size > 0 && holdsPipe(entry, pipes))) continue;
    const id = identify(Number(entry));
    if (id) found.push(id);
  }
  return found;
}
