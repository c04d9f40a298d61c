import type { ActionChannel } from '../agents/action-channel.js';
import type { TaskOutcome, TaskSpec } from './task.js';

/** What a pool of one type can still do, for reassignment and monitoring. */
export interface Capacity {
  healthy: number;
  busy: number;
  queued: number;
}

/** Called when a task starts on an instance, before the action runs (the journal's `step_started`). */
export type OnStart = (agentId: string) => void | Promise<void>;

export interface SubmitHooks {
  onStart?: OnStart;
  /** The run's journal and approvers, for an action of several turns (an LLM loop). */
  channel?: ActionChannel;
  /** Cancels this task alone (a step's timeout): queued, it leaves the queue; running, its action is aborted. */
  signal?: AbortSignal;
}

/**
 * The instances one run or task holds, and the tasks it runs on them. Every scheduler
 * (the workflow engine, orchestrate, assign_task) works through a session; whether its
 * tasks run in this process, in child processes or on workers elsewhere is the engine's.
 */
export interface EngineSession {
  /** Queues a task for its agent type and resolves with its outcome; never rejects for a failure. */
  submit(task: TaskSpec, hooks?: SubmitHooks): Promise<TaskOutcome>;
  capacity(agentType: string): Promise<Capacity>;
  /** Ids of the type's instances held by this session that may still take work. */
  healthyAgents(agentType: string): Promise<string[]>;
  /** The instances held, by agent type. */
  leased(): ReadonlyMap<string, readonly string[]>;
  /** Cancels what is queued, stops the session's workers and gives the instances back. */
  close(): Promise<void>;
}

export interface OpenRequest {
  /** The run or task the instances are held for (shown as their current task). */
  owner: string;
  /** How many instances of each agent type the work could use at once; at least one of each is held. */
  wanted: ReadonlyMap<string, number>;
  signal: AbortSignal;
  /**
   * Hold a single instance, queued first come first served in the registry when none is
   * free (assign_task, handle_failure). `prefer` is taken when it is free; with `only`,
   * it is waited for rather than another taken; `avoid` is never taken. `wanted` names one type.
   */
  single?: { prefer?: string; only?: boolean; avoid?: string };
  /**
   * The session's task keys were never submitted before (a new task or run, not a resumed
   * one): a queue engine need not look for jobs of theirs that a previous session left.
   */
  fresh?: boolean;
}

/**
 * Where an engine shares orchestration tasks between machines (the queue engine: Redis).
 * A task's journal lines and files are written here after they are on this machine's disk.
 */
export interface TaskShare {
  append(taskId: string, lines: string[]): Promise<void>;
  save(taskId: string, file: string, text: string): Promise<void>;
  /** Brings this machine's copy of a task up to date, before it is read. */
  fetch(taskId: string): Promise<void>;
}

/** Schedules tasks on agent pools. `local` is embedded; a queue engine implements the same calls. */
export interface Engine {
  readonly name: string;
  /**
   * Refuses, before a run writes anything, work it could not do: an agent type whose pool
   * is scaled to 0, an engine that cannot be reached.
   */
  prepare(types: Iterable<string>): Promise<void>;
  /** Holds instances for a run or task: an empty pool or one with only unhealthy instances is an error at once. */
  open(request: OpenRequest): Promise<EngineSession>;
  /**
   * The instances the engine has now where they are not the registry's: a queue engine's are
   * one per live worker taking work and type (`type@worker`), the ids its reports name.
   */
  instances?(): Promise<{ id: string; type: string }[]>;
}
