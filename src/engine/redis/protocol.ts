import type { Usage } from '../../agents/runtime.js';
import type { ChannelSnapshot } from '../process-protocol.js';
import type { ReplyBody, WorkerRequest } from '../relay.js';
import type { TaskFailure, TaskSpec } from '../task.js';

/** A job's data: the task, and what its worker needs to talk to the run that sent it. */
export interface JobData {
  task: TaskSpec;
  /** The session that added the job, which hears its requests unless a resumed run took it over (its route). */
  session?: string;
  /** The run's channel (history and usage so far), for an action of several turns. */
  channel?: ChannelSnapshot;
  /** Whether the action may delegate and read the pools through the run's session. */
  team?: boolean;
  /** Whether the run wants to hear when the job starts, and on which instance (a workflow step's `step_started`). */
  notify?: boolean;
  /**
   * A fan-in added before its task was known (`task` names it only): its run gives it the
   * task as it submits it. A worker sees one only if its gate was removed by hand.
   */
  held?: boolean;
}

/** What a job returns: a worker never throws for a task's failure, so BullMQ never retries one on its own. */
export type JobResult =
  | { ok: true; agentId: string; value: unknown; usage?: Usage; executions: number }
  | { ok: false; agentId: string; error: TaskFailure; executions: number };

/**
 * Worker → session, on the session's relay stream. `done` carries a job's result as the
 * worker is about to hand it to BullMQ: the session hears it on the stream it reads anyway,
 * instead of decoding every event of the job's queue for it.
 */
export type RelayMessage =
  | { t: 'started'; job: string; worker: string; agent: string; executions: number }
  | { t: 'done'; job: string; result: JobResult }
  | { t: 'ask'; job: string; worker: string; seq: number; request: WorkerRequest };

/** Session → worker, on the worker's reply stream. */
export type ReplyMessage = { t: 'reply'; seq: number; body: ReplyBody } | { t: 'cancel'; job: string; reason: string };

/** What a worker says of itself every few seconds, in the workers hash. */
export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  types: string[];
  concurrency: number;
  running: number;
  startedAt: string;
  /** ms since the epoch of the last beat. */
  beat: number;
  draining?: boolean;
}

/** How often a worker beats, and how long after its last beat it counts as gone. */
export const BEAT_MS = 2000;
export const BEAT_TTL_MS = 3 * BEAT_MS;

export function live(beat: WorkerBeat, now = Date.now()): boolean {
  return now - beat.beat <= BEAT_TTL_MS;
}

/**
 * The queue of one worker's own: jobs that must run on it (a retry on the same instance) or
 * were sent to it away from another (a reassignment), of any of its types.
 */
export function ownQueue(worker: string): string {
  return `@${worker}`;
}

/** One instance per worker and type: the agent id journals and reports name. */
export function instanceId(type: string, worker: string): string {
  return `${type}@${worker}`;
}

/** Reads one stream entry's JSON payload (field `m`). */
export function payload<T>(fields: string[]): T | undefined {
  const i = fields.indexOf('m');
  if (i < 0 || i + 1 >= fields.length) return undefined;
  try {
    return JSON.parse(fields[i + 1]!) as T;
  } catch {
    return undefined;
  }
}

