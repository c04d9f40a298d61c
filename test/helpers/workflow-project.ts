import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/workflows/', import.meta.url));

/** A copy of the workflow fixture project in a temp dir, with readers for what runs leave. */
export function workflowProject(): {
  dir: string;
  log: () => string[];
  /** Oldest first: ids sort by the second they were made in, so two runs of one second are told apart by their start. */
  runIds: () => string[];
  journal: (runId: string) => { type: string; [k: string]: unknown }[];
  cleanup: () => void;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-wf-'));
  cpSync(FIXTURE, dir, { recursive: true });
  const runsDir = path.join(dir, '.orch', 'runs');
  return {
    dir,
    log: () => (existsSync(path.join(dir, 'log.txt')) ? readFileSync(path.join(dir, 'log.txt'), 'utf8').trim().split('\n') : []),
    runIds: () => {
      if (!existsSync(runsDir)) return [];
      const started = readdirSync(runsDir).map((id) => ({ id, at: startOf(path.join(runsDir, id)) }));
      return started.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id)).map((r) => r.id);
    },
    journal: (runId) =>
      readFileSync(path.join(runsDir, runId, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** When a run started, from its journal's first event (its folder's time if it has none yet). */
function startOf(runDir: string): number {
  try {
    const first = readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8').split('\n', 1)[0] ?? '';
    return Date.parse((JSON.parse(first) as { at: string }).at);
  } catch {
    return statSync(runDir).ctimeMs;
  }
}

/** Pids of live processes whose command line contains `needle` (from /proc), optionally only those working in `cwd`. */
export function processesWith(needle: string, cwd?: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (!cmdline.includes(needle) || state === 'Z') continue;
      if (cwd !== undefined && readlinkSync(`/proc/${entry}/cwd`) !== cwd) continue;
      found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Polls until `check` is true (bounded), for waiting on another process's progress. */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
