import { randomBytes } from 'node:crypto';
import { closeSync, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { datasync, openMakingFolder, writeAll, writeFileAtomic } from '../util/atomic-file.js';
import type { TaskShare } from '../engine/engine.js';
import type { Redactor } from '../secrets/redact.js';
import { ExitCode, OrchError } from '../errors.js';
import type { TaskEvent, TaskTool } from './events.js';
import type { Subtask } from './plan.js';
import type { OrchestrationReport } from './report.js';

/**
 * Where orchestration keeps a task: `.orch/tasks/<task_id>/report.json` (replaced
 * atomically) and `journal.jsonl`, an append-only log of its failures and recovery
 * decisions, fsync'd line by line so a crash loses no decision already taken.
 * Everything passes the redactor before it is written: tools' results and errors can
 * carry secrets of the environment.
 */
export class TaskStore {
  constructor(
    private readonly stateDir: string,
    private readonly redactor: Redactor,
    /** On a queue engine, where tasks are shared with the other machines. */
    private readonly share?: TaskShare,
  ) {}

  /** A task's folder; a task id that cannot name one (`..`, a path) is refused. */
  dir(taskId: string): string {
    if (!isTaskId(taskId)) {
      throw new OrchError('ORCH_TASK', `\`${taskId}\` cannot be a task id: ids are letters, digits, \`_\`, \`.\` and \`-\``, {
        hint: 'leave `id` out and orch makes one',
        exitCode: ExitCode.usage,
      });
    }
    return path.join(this.stateDir, 'tasks', taskId);
  }

  /** Takes the values under secret-looking keys of a task as secrets: a tool echoing its `password` has it hidden too. */
  learn(value: unknown): void {
    this.redactor.learn(value);
  }

  /**
   * The value with secrets replaced, as this store would write it; for what goes back to
   * the caller. A copy when something was hidden, else the value itself: what this store
   * writes or hands back is not changed afterwards.
   */
  redact<T>(value: T): T {
    return this.redactor.redacted(value);
  }

  /** Saves the report redacted; returns what was saved. */
  async saveReport(report: OrchestrationReport): Promise<OrchestrationReport> {
    // Subtask ids are names, not values: an id like `fetch_token` keeps its entry, redacted inside.
    const subtasks = Object.fromEntries(Object.entries(report.subtasks).map(([id, entry]) => [id, this.redact(entry)]));
    const safe = { ...this.redact({ ...report, subtasks: {} }), subtasks };
    await this.saveFile(report.task_id, 'report.json', `${JSON.stringify(safe, null, 2)}\n`);
    return safe;
  }

  /**
   * The planned subtasks, so a failed one can be run again by handle_failure; redacted as
   * everything else, values under secret-looking keys included. A subtask whose input
   * held a secret cannot be run again from the plan: handle_failure refuses it (ORCH_SECRET_WITHHELD).
   */
  async savePlan(taskId: string, subtasks: readonly Subtask[]): Promise<void> {
    await this.saveFile(taskId, 'plan.json', `${JSON.stringify(this.redact(subtasks))}\n`);
  }

  /** Writes a task file here and, on a queue engine, to Redis, both at once. */
  private async saveFile(taskId: string, name: string, text: string): Promise<void> {
    await Promise.all([writeFileAtomic(path.join(this.dir(taskId), name), text), this.share?.save(taskId, name, text)]);
  }

  /** On a queue engine, a task another machine ran is brought here before it is read. */
  private async fetched(taskId: string, file: string): Promise<void> {
    if (this.share && !existsSync(path.join(this.dir(taskId), file))) await this.share.fetch(taskId);
  }

  async readPlan(taskId: string): Promise<Subtask[]> {
    await this.fetched(taskId, 'plan.json');
    const text = await readFile(path.join(this.dir(taskId), 'plan.json'), 'utf8').catch(() => '[]');
    return JSON.parse(text) as Subtask[];
  }

  async readReport(taskId: string): Promise<OrchestrationReport | undefined> {
    if (!isTaskId(taskId)) return undefined;
    await this.fetched(taskId, 'report.json');
    try {
      return JSON.parse(await readFile(path.join(this.dir(taskId), 'report.json'), 'utf8')) as OrchestrationReport;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Task ids, newest first. */
  async list(limit = Infinity): Promise<string[]> {
    const root = path.join(this.stateDir, 'tasks');
    const names = (await readdir(root).catch(() => [])).filter(isTaskId);
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(path.join(root, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    return dated.sort((a, b) => b.t - a.t).slice(0, limit).map((d) => d.n);
  }

  /**
   * What `orch runs`, `orch status` and `orch logs` say of a task: which tool ran it, how it
   * ended and when, from its journal and report. Undefined when there is no such task.
   */
  async summary(taskId: string): Promise<TaskSummary | undefined> {
    if (!isTaskId(taskId)) return undefined;
    const dir = this.dir(taskId);
    const folder = await stat(dir).catch(() => undefined);
    if (!folder?.isDirectory()) return undefined;
    const events: TimedTaskEvent[] = await readJournal(path.join(dir, 'journal.jsonl'));
    const report = await this.readReport(taskId).catch(() => undefined);
    const saved = await stat(path.join(dir, 'report.json')).catch(() => undefined);
    const started = events.find((e) => e.type === 'task_started');
    const finished = events.findLast((e) => e.type === 'task_finished');
    const endedAt = finished?.at ?? (saved ? saved.mtime.toISOString() : undefined);
    const startedAt =
      started?.at ?? (saved && report ? new Date(saved.mtimeMs - report.execution_time * 1000).toISOString() : folder.mtime.toISOString());
    return {
      id: taskId,
      tool: started?.type === 'task_started' ? (started.tool ?? 'orchestrate') : 'assign_task',
      coordination: report?.coordination ?? (started?.type === 'task_started' ? started.coordination : undefined),
      // A task without a report (a monitor_agents decision keeps none) ended as its journal says; else it is
      // running, or its process died before it could save one.
      status: report?.status ?? (finished?.type === 'task_finished' ? finished.status : 'unfinished'),
      startedAt,
      ...(endedAt !== undefined && { endedAt }),
      events,
      report,
    };
  }

  /** A journal for one task; appends are serialised so lines never interleave. */
  journal(taskId: string): Journal {
    const share = this.share;
    return new Journal(path.join(this.dir(taskId), 'journal.jsonl'), (event) => this.redact(event), share && ((lines) => share.append(taskId, lines)));
  }
}

/**
 * A task's journal. Each line is written to the file at once, synchronously (a small
 * append reaches the page cache in microseconds; through the thread pool it costs a round
 * trip of a hundred or more), then fdatasync'd off the event loop: lines appended while a
 * sync is under way are synced together. The file stays open until `flush` finds nothing
 * left to write. A write the file system refused makes every later append and `flush`
 * fail the same way, so that no line is glued onto a partial one.
 */
export class Journal {
  private fd: number | undefined;
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  private broken: unknown;

  constructor(
    readonly file: string,
    /** Runs on every event before it is written (redaction). */
    private readonly transform: (event: TaskEvent) => TaskEvent,
    /** On a queue engine, where the lines go once they are on disk. */
    private readonly mirror?: (lines: string[]) => Promise<void>,
  ) {}

  append(event: TaskEvent): void {
    if (this.broken !== undefined) return;
    const line = `${JSON.stringify(Object.assign({ at: new Date().toISOString() }, this.transform(event)))}\n`;
    try {
      this.fd ??= openMakingFolder(this.file, 'a');
      writeAll(this.fd, Buffer.from(line));
    } catch (err) {
      this.broken = err;
      return;
    }
    this.pending.push(line);
    this.flushing ??= this.sync();
  }

  /** Resolves once every event appended so far is on disk (and, on a queue engine, in Redis). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      closeSync(fd);
    }
    if (this.broken !== undefined) throw this.broken;
  }

  private async sync(): Promise<void> {
    // Appends made in the same tick join this batch.
    await Promise.resolve();
    while (this.pending.length > 0 && this.broken === undefined) {
      const lines = this.pending;
      this.pending = [];
      try {
        await datasync(this.fd!);
        await this.mirror?.(lines);
      } catch (err) {
        this.broken ??= err;
      }
    }
    this.flushing = undefined;
  }
}

/** A sortable, unique task id: time first, so listings read in order; `monitor-...` for a monitor_agents decision. */
export function newTaskId(kind: 'task' | 'monitor' = 'task'): string {
  return `${kind}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Task ids name folders: letters, digits, `_`, `.` and `-`, and not only dots, so no id
 * reaches outside `<state>/tasks/`.
 */
export function isTaskId(id: string): boolean {
  return /^[\w.-]{1,128}$/.test(id) && !/^\.+$/.test(id);
}

/** A journal event with the time it was written. */
export type TimedTaskEvent = TaskEvent & { at?: string };

export interface TaskSummary {
  id: string;
  tool: TaskTool;
  coordination?: string;
  status: string;
  startedAt: string;
  endedAt?: string;
  events: TimedTaskEvent[];
  report?: OrchestrationReport;
}

/** Every event of a task's journal, oldest first. */
export async function readJournal(file: string): Promise<TimedTaskEvent[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  // Lines are written whole and fsync'd; a torn last line after a crash is skipped.
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as TimedTaskEvent] : [];
    } catch {
      return [];
    }
  });
}
