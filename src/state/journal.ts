import { open, readFile, type FileHandle } from 'node:fs/promises';
import { OrchError } from '../errors.js';
import { writeAll } from '../util/atomic-file.js';
import { stateReadError, stateWriteError } from '../util/fs-errors.js';
import { isoTime } from '../util/iso-time.js';
import { eventProblem } from './event-schema.js';
import type { NewEvent, RunEvent } from './events.js';

/** An event as appended: as the run acts on it, and as the journal wrote it down (redacted). */
export interface Appended {
  event: RunEvent;
  written: RunEvent;
}

/**
 * An append-only JSONL journal. `append` resolves once the event is on disk (fdatasync),
 * so a caller that waits for it can act on the event as durable. Appends made while a
 * sync is under way are synced together (group commit): parallel steps cost one sync per
 * batch, not one each.
 *
 * Each line is written to the file at once, synchronously: a small append goes to the
 * page cache in microseconds, while a write through the thread pool costs a round trip
 * of a hundred or more — on every model turn and tool call of an LLM step. The sync,
 * which waits for the disk, stays off the event loop.
 */
export class Journal {
  private pending: { line: string; sync: boolean; done: (err?: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  /** Events appended in this process, in order, as written (what a fold of the file would add). */
  readonly appended: RunEvent[] = [];
  /** fdatasync calls made so far: with group commit, fewer than events. */
  syncs = 0;
  /**
   * The first write the file system refused. A failed write may have left part of a line,
   * and a later event glued onto it would corrupt the journal: every append after it fails
   * the same way, and the next `open` cuts the partial line off.
   */
  private broken: unknown;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly transform: (event: RunEvent) => RunEvent,
    private readonly mirror?: (lines: string[]) => Promise<void>,
  ) {}

  /**
   * Opens (creating if needed) a journal file for appending. A last line cut short by a
   * crash was never acknowledged as durable, so it is cut off first: new events must not
   * be glued onto it. `transform` makes the copy of every event that is written
   * (redaction); the caller keeps acting on the event as it gave it. `mirror` is given
   * the lines written, and each append waits for it as for the disk.
   */
  static async open(file: string, transform: (event: RunEvent) => RunEvent = (e) => e, mirror?: (lines: string[]) => Promise<void>): Promise<Journal> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'a+');
    } catch (err) {
      throw stateWriteError(err, file);
    }
    try {
      const { size } = await handle.stat();
      if (size > 0) await handle.truncate(await endOfLastLine(handle, size));
    } catch (err) {
      await handle.close();
      throw stateWriteError(err, file);
    }
    return new Journal(file, handle, transform, mirror);
  }

  /**
   * Appends an event. With `sync: false` it is written (visible to readers) but not
   * synced on its own: it becomes durable with the next synced event — for events whose
   * loss in a crash changes nothing, such as a step starting.
   */
  append(event: NewEvent, options: { sync?: boolean } = {}): Promise<Appended> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    // Object.assign, not `{ ...event, at }`: the spread with a key after it is many times
    // slower, and gives every event a shape of its own, which the journal then holds.
    const full = Object.assign({}, event, { at: isoTime(Date.now()) }) as RunEvent;
    const written = this.transform(full);
    const line = `${JSON.stringify(written)}\n`;
    try {
      writeAll(this.handle.fd, Buffer.from(line));
    } catch (err) {
      this.broken ??= stateWriteError(err, this.file);
      return Promise.reject(this.broken);
    }
    this.appended.push(written);
    return new Promise<Appended>((resolve, reject) => {
      const done = (err?: unknown): void => (err === undefined ? resolve({ event: full, written }) : reject(err));
      this.pending.push({ line, sync: options.sync !== false, done });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Never done within the call that starts it (`flushing` must be set first); and appends
    // made in the same tick join this batch.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        if (batch.some((b) => b.sync)) {
          await this.handle.datasync();
          this.syncs++;
        }
        // Shared state (the queue engine's Redis): an event is written once it is there too.
        if (this.mirror) await this.mirror(batch.map((b) => b.line));
        for (const b of batch) b.done();
      } catch (err) {
        this.broken ??= stateWriteError(err, this.file);
        for (const b of batch) b.done(this.broken);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.handle.close();
  }
}

/** The length of the file up to and including its last newline (0 if it has none), scanning back in chunks. */
async function endOfLastLine(handle: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (at !== -1) return start + at + 1;
    end = start;
  }
  return 0;
}

/**
 * Reads a journal. A crash can leave the last line half-written; that line was never
 * acknowledged as durable, so it is dropped. A bad line elsewhere is corruption.
 */
export async function readJournal(file: string): Promise<RunEvent[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw stateReadError(err, file);
  }
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return;
    }
    const problem = eventProblem(event);
    if (problem !== undefined) {
      throw new OrchError('ORCH_CORRUPT_RUN', `${file}:${i + 1}: this line of the run's journal is not an event orch wrote (${problem})`, {
        hint: 'the journal was edited or damaged; restore it from a backup, or start a new run',
      });
    }
    events.push(event as RunEvent); // checked by eventProblem
  });
  return events;
}
