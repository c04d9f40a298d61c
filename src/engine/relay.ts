import type { ActionChannel, ToolDecision } from '../agents/action-channel.js';
import type { TeamServices } from '../agents/action.js';
import { OrchError } from '../errors.js';
import type { ChannelSnapshot, ParentMessage, WorkerMessage } from './process-protocol.js';
import { toFailure } from './task.js';

/** A worker's request about one of its tasks: a journal write, a decision, or a team operation. */
export type WorkerRequest = Extract<WorkerMessage, { type: 'record' | 'decide' | 'team' }>;
export type Reply = Extract<ParentMessage, { type: 'reply' }>;
/** Sends a request to whoever owns the task's run and resolves with the answer. */
export type Ask = (request: WorkerRequest extends infer M ? (M extends WorkerRequest ? Omit<M, 'seq'> : never) : never) => Promise<Reply>;

/**
 * The run's channel as a worker away from the run sees it: the history and usage it was
 * given with the task, and every write or question sent back to the run's owner.
 */
export function relayedChannel(ask: Ask, id: number, snapshot: ChannelSnapshot): ActionChannel {
  return {
    history: snapshot.history,
    runUsage: () => snapshot.runUsage,
    record: async (event, durable) => void (await ask({ type: 'record', id, event, durable })),
    decide: async (call, _signal, question): Promise<ToolDecision> =>
      (await ask({ type: 'decide', id, call, ...(question !== undefined && { question }) })).decision ?? { decision: 'pending' },
  };
}

/** Delegation and pool status from a worker: the run's owner does them, in the session that holds the run's instances. */
export function relayedTeam(ask: Ask, id: number): TeamServices {
  return {
    delegate: async ({ signal: _signal, channel: _channel, ...request }) => {
      const reply = await ask({ type: 'team', id, op: 'delegate', request });
      if (reply.failure) throw new OrchError(reply.failure.code, reply.failure.message);
      return { output: reply.value, ...(reply.usage && { usage: reply.usage }) };
    },
    status: async (role) => {
      const reply = await ask({ type: 'team', id, op: 'status', ...(role !== undefined && { role }) });
      if (reply.failure) throw new OrchError(reply.failure.code, reply.failure.message);
      return reply.value;
    },
  };
}

/** What the owner of a task knows to answer its worker's requests with. */
export interface TaskLink {
  channel?: ActionChannel;
  team?: TeamServices;
  signal: AbortSignal;
}

/** The answer's fields, without the addressing the transport adds. */
export type ReplyBody = Partial<Omit<Reply, 'type' | 'id' | 'seq'>>;

/**
 * Answers one worker request from the task's channel and team, however the request came
 * (IPC from a child process, a stream from a queue worker). `link` absent: the task is over.
 */
export function answerRequest(request: WorkerRequest, link: TaskLink | undefined, reply: (body: ReplyBody) => void): void {
  let done: Promise<void>;
  if (request.type === 'record') {
    done = (link?.channel?.record(request.event, request.durable) ?? Promise.resolve()).then(() => reply({}));
  } else if (request.type === 'decide') {
    done = (link?.channel?.decide(request.call, new AbortController().signal, request.question) ?? Promise.resolve({ decision: 'pending' as const })).then(
      (decision) => reply({ decision }),
    );
  } else {
    const team = link?.team;
    if (!team || !link) return reply({ failure: { code: 'ORCH_CANCELLED', message: 'the task is over', retryable: false } });
    done =
      request.op === 'delegate'
        ? team.delegate({ ...request.request, signal: link.signal, channel: link.channel }).then((r) => reply({ value: r.output ?? null, ...(r.usage && { usage: r.usage }) }))
        : team.status(request.role).then((value) => reply({ value }));
    done = done.catch((err: unknown) => reply({ failure: toFailure(err) }));
    return void done;
  }
  done.catch((err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }));
}
