import { instancesOf } from '../agents/pool.js';
import { UNHEALTHY_AFTER, type AgentStatus } from '../agents/types.js';
import { ExitCode, OrchError } from '../errors.js';
import { REDACTED, redactedPath } from '../secrets/redact.js';
import type { HandlerContext } from '../tools/module.js';
import { findAgent } from './assign.js';
import { orchestration, type Orchestration } from './context.js';
import { decideRecovery, mergePolicy, type RecoveryAction } from './failure-policy.js';
import { resolveInput } from './refs.js';
import { taskStatus, type OrchestrationReport } from './report.js';
import { readJournal } from './task-store.js';
import { runOnPool } from './single-run.js';
import { chooseRecovery, outcomeForModel, plannerOf } from './llm-plan.js';

export interface FailureHandled {
  agent_id: string;
  task_id: string;
  recovery_action: RecoveryAction;
  /** Subtasks the action was about: the task's failed subtasks that ran on this agent. */
  subtasks: string[];
  result: Record<string, unknown>;
  agent_status: AgentStatus;
}

/**
 * `handle_failure(agent_id, task_id)`: counts a failure against the agent (unhealthy
 * after more than 3 in a row), then takes the next step of the failure policy for the
 * task's subtasks that failed on it — retry on the agent, reassign to another instance,
 * accept a partial result, or abort — updates the task's report and journals it all.
 */
export async function handleFailure(params: Record<string, unknown>, ctx: HandlerContext): Promise<FailureHandled> {
  const orch = orchestration(ctx);
  const agent = await findAgent(orch, params.agent_id);
  const taskId = params.task_id;
  const report = typeof taskId === 'string' ? await orch.tasks.readReport(taskId) : undefined;
  if (typeof taskId !== 'string' || !report) throw new OrchError('ORCH_UNKNOWN_TASK', `no task \`${String(taskId)}\``, { hint: 'give the task_id an orchestrate or assign_task call returned', exitCode: ExitCode.usage });
  const journal = orch.tasks.journal(taskId);
  const status = await orch.agents.update((registry) => {
    const a = instancesOf(registry).find((x) => x.id === agent.id);
    if (!a) return agent.status;
    a.failureCount++;
    a.totalFailures++;
    if (a.failureCount > UNHEALTHY_AFTER && a.status === 'available') a.status = 'unhealthy';
    return a.status;
  });
  if (status === 'unhealthy') journal.append({ type: 'agent_unhealthy', task_id: taskId, agent_id: agent.id, failure_count: agent.failureCount + 1 });

  const failed = Object.entries(report.subtasks).filter(([, e]) => e.status === 'failed' && e.agent_id === agent.id).map(([id]) => id);
  const earlier = (await readJournal(journal.file)).filter((e) => e.type === 'recovery' && e.agent_id !== null && e.reason.startsWith('handle_failure'));
  const history = { retries: earlier.filter((e) => e.type === 'recovery' && e.action === 'retry').length, reassignments: earlier.filter((e) => e.type === 'recovery' && e.action === 'reassign').length };
  // A queue engine's instance (a worker's) has its peers among the engine's live ones, not the registry's.
  const others = agent.livePeers ?? instancesOf(await orch.agents.read(), agent.type).some((a) => a.id !== agent.id && a.status !== 'unhealthy');
  const policy = mergePolicy(orch.project.orchestration?.failurePolicy);
  const possible = { retry: failed.length > 0 && status !== 'unhealthy', reassign: failed.length > 0 && others };
  const ruled = decideRecovery(policy, history, possible);
  // With a planner model, it chooses among what is possible now; the rules stand when it cannot.
  const planner = plannerOf(orch);
  const allowed = [...(possible.retry ? ['retry'] : []), ...(possible.reassign ? ['reassign'] : []), 'partial', 'abort'];
  const chosen =
    planner && failed.length > 0
      ? await chooseRecovery(
          orch,
          planner,
          taskId,
          { agent: agent.id, agent_status: status, failed_subtasks: failed.flatMap((id) => {
            const entry = report.subtasks[id];
            return entry ? [{ id, ...outcomeForModel(entry, { instance: true }) }] : [];
          }), history, rule_based_choice: ruled },
          allowed,
          journal,
          ctx.signal ?? new AbortController().signal,
        )
      : undefined;
  const action = (chosen?.action as RecoveryAction | undefined) ?? ruled;
  const why = chosen ? `the ${planner} model chose it: ${chosen.reason}` : `${action} for ${failed.length} failed subtask(s)`;
  journal.append({ type: 'recovery', task_id: taskId, subtask: failed.join(','), agent_id: agent.id, action, reason: `handle_failure: ${why}` });
  const result = await recover(orch, ctx, report, failed, action, agent.id);
  await orch.tasks.saveReport(report);
  await journal.flush();
  return orch.tasks.redact({ agent_id: agent.id, task_id: taskId, recovery_action: action, subtasks: failed, result, agent_status: status });
}

/**
 * The plan and the results a re-run reads hold secrets only as `[REDACTED]`: a subtask
 * whose input would carry one is not run with the placeholder, and nothing is re-run.
 */
function assertNotWithheld(taskId: string, inputs: ReadonlyMap<string, Record<string, unknown>>): void {
  for (const [id, input] of inputs) {
    const at = redactedPath(input);
    if (at === undefined) continue;
    const where = at ? ` \`${at}\`` : '';
    const message = `subtask \`${id}\` of task ${taskId} cannot be run again: its input${where} held a secret, which orch stores only as ${REDACTED}`;
    throw new OrchError('ORCH_SECRET_WITHHELD', message, {
      hint: 'run the task again with orchestrate (or assign_task), giving the input anew',
    });
  }
}

async function recover(orch: Orchestration, ctx: HandlerContext, report: OrchestrationReport, failed: string[], action: RecoveryAction, agentId: string): Promise<Record<string, unknown>> {
  const total = Object.keys(report.subtasks).length;
  switch (action) {
    case 'retry':
    case 'reassign': {
      const plan = new Map((await orch.tasks.readPlan(report.task_id)).map((s) => [s.id, s]));
      const values = new Map(Object.entries(report.subtasks).flatMap(([id, e]) => (e.status === 'succeeded' ? [[id, e.result]] : [])));
      const outcomes: Record<string, unknown> = {};
      const inputs = new Map(failed.flatMap((id) => {
        const subtask = plan.get(id);
        return subtask ? [[id, resolveInput(subtask.input, values)]] : [];
      }));
      assertNotWithheld(report.task_id, inputs);
      for (const id of failed) {
        const subtask = plan.get(id);
        const entry = report.subtasks[id];
        if (!subtask?.tool || !entry) continue;
        const where = action === 'retry' ? { prefer: agentId, onlyPreferred: true } : { avoid: agentId };
        const run = await runOnPool(orch, ctx, { taskId: `${report.task_id}.${id}`, agentType: subtask.agentType, tool: subtask.tool, input: inputs.get(id) ?? {}, ...where });
        const attempts = entry.attempts + 1;
        const next = run.outcome.ok
          ? { status: 'succeeded' as const, agent_id: run.agentId, attempts, result: run.outcome.value }
          : { status: 'failed' as const, agent_id: run.agentId, attempts, error: run.outcome.error };
        report.subtasks[id] = { ...next, agent_type: entry.agent_type, tool: entry.tool };
        outcomes[id] = run.outcome.ok ? { status: 'succeeded', agent_id: run.agentId } : { status: 'failed', agent_id: run.agentId, error: run.outcome.error };
      }
      report.status = taskStatus(Object.values(report.subtasks));
      return { status: report.status, subtasks: outcomes };
    }
    case 'partial': {
      const done = Object.values(report.subtasks).filter((e) => e.status === 'succeeded').length;
      report.status = taskStatus(Object.values(report.subtasks));
      return { status: 'partial', completed_portion: total === 0 ? 0 : Math.round((done / total) * 100) / 100, remaining: failed };
    }
    case 'abort':
      report.status = 'failed';
      return { status: 'aborted', reason: `the failure policy is exhausted for ${failed.join(', ') || 'the task'}` };
    default: {
      const never: never = action;
      throw new Error(`unknown recovery ${String(never)}`);
    }
  }
}
