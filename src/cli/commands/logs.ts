import { stringify } from 'yaml';
import { ExitCode, OrchError } from '../../errors.js';
import { isTaskId, type TaskSummary, type TimedTaskEvent } from '../../orchestration/task-store.js';
import { suggest } from '../../util/suggest.js';
import { listAll, readOnlyTasks, taskRow } from '../run-listing.js';
import type { RunEvent } from '../../state/events.js';
import { readJournal } from '../../state/journal.js';
import { isRunId, loadRun, runPaths } from '../../state/runs.js';
import { resolveStateDir } from '../../state/state-dir.js';
import type { GlobalOptions, Io } from '../context.js';
import { usageText } from '../ui/usage.js';
import { processIo } from '../context.js';
import { pullShared } from '../shared-state.js';

function oneLine(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  const flat = text.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** One journal event as a line a person reads. */
export function describeEvent(e: RunEvent, verbose = false): string {
  switch (e.type) {
    case 'run_started':
      return `run ${e.run_id} of ${e.workflow} started (pid ${e.pid})${Object.keys(e.inputs).length ? ` with inputs ${oneLine(e.inputs)}` : ''}`;
    case 'run_resumed':
      return `run resumed (pid ${e.pid})`;
    case 'step_started':
      return `${e.step}: started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`;
    case 'step_succeeded':
      return `${e.step}: succeeded in ${e.duration_ms} ms${e.output === null || e.output === '' ? '' : verbose ? `\n${stringify(e.output).trimEnd().split('\n').map((l) => `      ${l}`).join('\n')}` : ` → ${oneLine(e.output)}`}`;
    case 'step_failed':
      return `${e.step}: failed${e.final ? '' : `, will retry (attempt ${e.attempt})`}: ${oneLine(e.error, verbose ? 10_000 : 200)}`;
    case 'step_skipped':
      return `${e.step}: skipped, ${e.reason}`;
    case 'gate_waiting':
      if (e.tool_call?.tool === 'ask_human') return `${e.step}: waiting for an answer: the agent asks ${oneLine(e.tool_call.input.question ?? e.tool_call.input)}`;
      if (e.tool_call) return `${e.step}: waiting for approval of the model's call ${e.tool_call.tool} ${oneLine(e.tool_call.input)}`;
      return `${e.step}: waiting for approval (${e.when} the step)`;
    case 'gate_decided':
      return `${e.step}: ${e.call_id === undefined ? '' : `tool call ${e.call_id} `}${e.answer !== undefined ? `answered ${oneLine(e.answer)}` : e.decision} by ${e.by} via ${e.method === 'prompt' ? 'the terminal prompt' : e.method === 'flag' ? 'a flag given up front' : e.method === 'client' ? 'the serving client' : 'orch approve/reject'}${e.reason ? ` — ${e.reason}` : ''}`;
    case 'model_turn':
      return `${e.step}:   turn ${e.turn} (${e.model}, ${usageText(e.usage)}, ${e.duration_ms} ms)${e.tool_calls.length > 0 ? ` → calls ${e.tool_calls.map((c) => c.tool).join(', ')}` : ` → ${oneLine(e.text, verbose ? 10_000 : 120)}`}`;
    case 'tool_call_started':
      return `${e.step}:     ${e.tool} ${oneLine(e.input, verbose ? 10_000 : 100)}`;
    case 'tool_call_finished':
      return `${e.step}:     ${e.tool} ${e.refused ? 'refused' : e.ok ? 'returned' : 'failed'} in ${e.duration_ms} ms${e.ok ? ` → ${oneLine(e.output, verbose ? 10_000 : 100)}` : `: ${oneLine(e.error ?? '', 200)}`}`;
    case 'run_paused':
      return `run paused: ${e.waiting.join(', ')} await${e.waiting.length === 1 ? 's' : ''} approval`;
    case 'run_interrupted':
      return `run interrupted (${e.signal})`;
    case 'run_finished':
      return `run ${e.status}`;
    default: {
      // A journal written by a later orch may hold events this one does not know.
      const unknown: never = e;
      return `event ${JSON.stringify(unknown)}`;
    }
  }
}

/**
 * Indents what delegated runs journalled under the `dispatch_to_agent` call they serve,
 * one level per delegation, and names their agent: `review:   ↳ reviewer turn 1 ...`.
 */
function delegationDepths(): (e: RunEvent, line: string) => string {
  const depthOf = new Map<string, number>();
  return (e, line) => {
    if (e.type !== 'model_turn' && e.type !== 'tool_call_started' && e.type !== 'tool_call_finished') return line;
    const depth = e.via === undefined ? 0 : (depthOf.get(e.via) ?? 1);
    if (e.type === 'tool_call_started' && e.tool === 'dispatch_to_agent') depthOf.set(e.call_id, depth + 1);
    if (depth === 0) return line;
    const prefix = `${e.step}:`;
    return `${prefix}${'    '.repeat(depth)}↳ ${e.agent ?? 'agent'}${line.slice(prefix.length)}`;
  };
}

/** One event of an orchestration task's journal as a line a person reads. */
export function describeTaskEvent(e: TimedTaskEvent): string {
  switch (e.type) {
    case 'task_started':
      if (e.tool === 'monitor_agents') return `task ${e.task_id} started: monitor_agents, asking the planner's model about the pools`;
      return `task ${e.task_id} started: ${e.tool ?? 'orchestrate'}, ${e.coordination ?? 'centralized'}, ${e.subtasks} subtask${e.subtasks === 1 ? '' : 's'}${e.agents.length ? ` on ${e.agents.join(', ')}` : ''}`;
    case 'subtask_failed':
      return `${e.subtask}: failed${e.agent_id ? ` on ${e.agent_id}` : ''} (attempt ${e.attempt}): ${e.error.code} ${oneLine(e.error.message, 200)}`;
    case 'recovery':
      return `${e.subtask || '(none)'}: ${e.action}${e.agent_id ? ` (agent ${e.agent_id})` : ''}: ${e.reason}`;
    case 'agent_unhealthy':
      return `agent ${e.agent_id} is unhealthy after ${e.failure_count} failures in a row`;
    case 'task_finished':
      return `task ${e.status}: ${e.succeeded} succeeded, ${e.failed} failed`;
    case 'llm_decision': {
      const what = e.decision === 'monitor' ? 'advised on the pools' : `decided the ${e.decision}`;
      return `${e.agent} model ${what}${e.usage ? ` (${usageText(e.usage)})` : ''}: ${oneLine(e.output, 200)}`;
    }
    default: {
      const unknown: never = e;
      return `event ${JSON.stringify(unknown)}`;
    }
  }
}

/** `orch logs <task>`: an orchestration task's journal, then how each subtask ended. */
function taskLogs(task: TaskSummary, globals: GlobalOptions, io: Io): number {
  if (globals.json) {
    io.stdout.write(`${JSON.stringify({ ...taskRow(task), events: task.events, report: task.report ?? null }, null, 2)}\n`);
    return ExitCode.ok;
  }
  for (const e of task.events) io.stdout.write(`${(e.at ?? '').replace('T', ' ').slice(0, 23).padEnd(23)}  ${describeTaskEvent(e)}\n`);
  const subtasks = Object.entries(task.report?.subtasks ?? {});
  if (subtasks.length > 0) {
    io.stdout.write(`subtasks of ${task.id} (${task.status}):\n`);
    for (const [id, s] of subtasks) {
      const where = s.agent_id ? ` on ${s.agent_id}` : '';
      const what = s.status === 'succeeded' ? `→ ${oneLine(s.result)}` : `${s.error.code} ${oneLine(s.error.message, 200)}`;
      io.stdout.write(`  ${id}: ${s.status}${where}, ${s.attempts} attempt${s.attempts === 1 ? '' : 's'} ${what}\n`);
    }
  } else if (!task.report && task.status === 'unfinished') {
    io.stdout.write(`(task ${task.id} has no report: it is running, or the process running it ended first)\n`);
  }
  return ExitCode.ok;
}

/**
 * `orch logs <run>`: the run's journal as a readable timeline. An orchestration task's id
 * (as `orch runs` lists it) shows the task's journal instead.
 */
export async function run(globals: GlobalOptions, runId: string, _flags?: unknown, _command?: unknown, io: Io = processIo): Promise<number> {
  const stateDir = resolveStateDir(globals.dir);
  if (isRunId(runId) || isTaskId(runId)) await pullShared(globals, stateDir, runId);
  if (!isRunId(runId)) {
    // Only a plain name may be a task's: a path never reaches the file system.
    const task = /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(runId) ? await readOnlyTasks(stateDir).summary(runId) : undefined;
    if (task) return taskLogs(task, globals, io);
    const ids = (await listAll(stateDir)).rows.map((r) => r.id);
    const guess = suggest(runId, ids);
    throw new OrchError('ORCH_UNKNOWN_RUN', `\`${runId}\` is not a run id, and no task has it`, {
      hint: guess ? `did you mean \`${guess}\`?` : ids.length ? 'run `orch runs` to list them' : 'this project has no runs yet',
    });
  }
  const state = await loadRun(stateDir, runId);
  const events = await readJournal(runPaths(stateDir, runId).journal);
  if (globals.json) {
    io.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    return ExitCode.ok;
  }
  const nested = delegationDepths();
  for (const e of events) io.stdout.write(`${e.at.replace('T', ' ').slice(0, 23)}  ${nested(e, describeEvent(e, globals.verbose))}\n`);
  if (state.status === 'interrupted' && events.at(-1)?.type !== 'run_interrupted') {
    io.stdout.write(`(the process driving the run ended without finishing it; \`orch resume ${runId}\` continues it)\n`);
  }
  return ExitCode.ok;
}
