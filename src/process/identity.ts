import { readFileSync, readdirSync } from 'node:fs';

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
