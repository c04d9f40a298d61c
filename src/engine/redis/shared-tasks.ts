import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { OrchError } from '../../errors.js';
import type { TaskShare } from '../engine.js';
import { linkTo } from './link.js';
import type { EngineTarget } from './target.js';

/** The files of a task folder that are shared; anything else stays on its machine. */
const SHARED_FILES = new Set(['report.json', 'plan.json']);

/**
 * Orchestration tasks in Redis, as runs are: every line a task journals is added to its
 * stream (`{prefix}task:{id}:journal`) once it is on disk, and its report and plan are
 * kept in a hash (`{prefix}task:{id}:files`), so `orch runs`, `status`, `logs`, `report`,
 * `aggregate_results` and `handle_failure` see a task from any machine on the same engine.
 */
export class SharedTasks implements TaskShare {
  constructor(
    private readonly target: EngineTarget,
    private readonly stateDir: string,
  ) {}

  private async use<T>(body: (redis: Redis) => Promise<T>): Promise<T> {
    const link = linkTo(this.target);
    link.hold();
    try {
      await link.ready();
      return await body(link.redis());
    } finally {
      link.release();
    }
  }

  async append(taskId: string, lines: string[]): Promise<void> {
    await this.use(async (redis) => {
      const batch = redis.multi().hset(taskIndex(this.target), taskId, String(Date.now()));
      for (const line of lines) batch.xadd(taskJournal(this.target, taskId), '*', 'e', line.replace(/\n$/, ''));
      check(await batch.exec(), this.target, taskId);
    });
  }

  async save(taskId: string, file: string, text: string): Promise<void> {
    await this.use(async (redis) => {
      check(await redis.multi().hset(taskIndex(this.target), taskId, String(Date.now())).hset(taskFiles(this.target, taskId), file, text).exec(), this.target, taskId);
    });
  }

  async fetch(taskId: string): Promise<void> {
    await this.use((redis) => pullTask(redis, this.target, this.stateDir, taskId));
  }
}

function check(results: [Error | null, unknown][] | null, target: EngineTarget, taskId: string): void {
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw new OrchError('ORCH_ENGINE_UNREACHABLE', `could not write task ${taskId} to ${target.shown}: ${failed?.[0]?.message ?? 'no answer'}`);
}

/** Hash: task id → when it last changed. */
export function taskIndex(target: EngineTarget): string {
  return `${target.prefix}tasks`;
}

function taskJournal(target: EngineTarget, taskId: string): string {
  return `${target.prefix}task:${taskId}:journal`;
}

function taskFiles(target: EngineTarget, taskId: string): string {
  return `${target.prefix}task:${taskId}:files`;
}

/**
 * Brings this machine's copy of a task up to date: the journal lines others appended are
 * added to the ones it has, and its report and plan are written as Redis has them.
 */
export async function pullTask(redis: Redis, target: EngineTarget, stateDir: string, taskId: string): Promise<void> {
  if (!/^[\w.-]{1,128}$/.test(taskId) || /^\.+$/.test(taskId)) return;
  const dir = path.join(stateDir, 'tasks', taskId);
  const journal = path.join(dir, 'journal.jsonl');
  const [total, files] = await Promise.all([redis.xlen(taskJournal(target, taskId)), redis.hgetall(taskFiles(target, taskId))]);
  const have = existsSync(journal) ? countLines(await readFile(journal, 'utf8')) : 0;
  if (total > have) {
    const entries = (await redis.xrange(taskJournal(target, taskId), '-', '+')).slice(have);
    await mkdir(dir, { recursive: true });
    await appendFile(journal, entries.map(([, fields]) => `${fields[1] ?? ''}\n`).join(''));
  }
  for (const [name, text] of Object.entries(files)) {
    if (!SHARED_FILES.has(name)) continue;
    const file = path.join(dir, name);
    if ((await readFile(file, 'utf8').catch(() => undefined)) === text) continue;
    await mkdir(dir, { recursive: true });
    await writeFile(file, text);
  }
}

export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
