import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Project, WorkflowDef } from '../config/model.js';
import type { Supervisor } from '../mcp/supervisor.js';
import { silentLogger } from '../tools/context.js';
import { resolveInputs } from '../workflow/inputs.js';
import { runReport } from '../workflow/report.js';
import { startRun } from '../workflow/session.js';
import type { GateAsker, GateRequest } from '../workflow/engine.js';
import type { RunEvent } from '../state/events.js';
import type { Logger, ProgressUpdate } from '../tools/context.js';
import { resultText } from '../tools/result.js';
import type { Confirm } from './gateway.js';

/** Asks the MCP client's user for a line of text; undefined when they decline or cancel. */
export type Elicit = (message: string) => Promise<string | undefined>;

/** A gate as a yes/no question to the client's user. */
function gateMessage(request: GateRequest): string {
  if (request.toolCall) return `Step \`${request.step.id}\`: approve the model's call of \`${request.toolCall.tool}\` with ${resultText(request.toolCall.input)}?`;
  if (request.when === 'before') return `Approve step \`${request.step.id}\` (${request.step.action}) before it runs, with ${resultText(request.args)}?`;
  return `Approve the output of step \`${request.step.id}\`: ${resultText(request.output ?? null)}?`;
}

/** Runs started for MCP clients and not finished yet. */
const inFlight = new Set<Promise<unknown>>();

/**
 * Waits until every run started for a client has wound down. A signal reaches each run
 * (it listens for SIGINT/SIGTERM while it runs), which then cancels its steps and
 * journals `interrupted`; the server must not exit before that is on disk.
 */
export async function settleWorkflowCalls(): Promise<void> {
  await Promise.allSettled([...inFlight]);
}

/** Workflows served as tools: those whose name no declared tool already takes. */
export function servedWorkflows(project: Project): WorkflowDef[] {
  return [...project.workflows.values()].filter((w) => !project.tools.has(w.name));
}

/** A workflow as an MCP tool: its inputs are the input schema. */
export function describeWorkflow(workflow: WorkflowDef): Tool {
  const properties = Object.fromEntries(
    workflow.inputs.map((i) => [i.name, { type: i.type, ...(i.description ? { description: i.description } : {}), ...(i.default !== undefined ? { default: i.default } : {}) }]),
  );
  return {
    name: workflow.name,
    description: workflow.description ?? `Runs the workflow ${workflow.name} (${workflow.steps.map((s) => s.id).join(' → ')})`,
    inputSchema: { type: 'object', properties, required: workflow.inputs.filter((i) => i.required).map((i) => i.name), additionalProperties: false },
  };
}

/**
 * Runs a workflow for an MCP client: a new run with its journal, like `orch run` without
 * a terminal — so a gate pauses the run, and the result says how a person decides it.
 * The run report is the structured result; a failed or interrupted run is an error result.
 */
export async function callWorkflow(
  project: Project,
  workflow: WorkflowDef,
  args: Record<string, unknown>,
  options: { signal: AbortSignal; supervisor?: Supervisor; elicit?: Elicit; confirm?: Confirm; onProgress?: (p: ProgressUpdate) => void; logger?: Logger },
): Promise<CallToolResult> {
  const inputs = resolveInputs(workflow, args);
  const { elicit, confirm, onProgress } = options;
  // An agent's question (ask_human) becomes an elicitation when the client can answer one, and so does a gate: a yes or no.
  const ask: GateAsker | undefined = elicit
    ? async (request) => {
        if (request.question !== undefined) {
          const reply = await elicit(`The agent of step \`${request.step.id}\` asks: ${request.question}`);
          return reply === undefined ? false : reply;
        }
        const said = confirm ? await confirm(gateMessage(request)) : undefined;
        return said === true;
      }
    : undefined;
  // One progress notification per step that starts or settles, of the workflow's steps.
  const total = workflow.steps.length;
  let settled = 0;
  const onEvent = onProgress
    ? (event: RunEvent) => {
        if (event.type === 'step_started') onProgress({ progress: settled, total, message: `step ${event.step} started` });
        if (event.type === 'step_succeeded' || event.type === 'step_skipped' || (event.type === 'step_failed' && event.final)) {
          settled++;
          onProgress({ progress: settled, total, message: `step ${event.step} ${event.type.slice('step_'.length)}` });
        }
      }
    : undefined;
  const running = startRun(
    {
      project,
      workflow,
      approve: new Set(),
      approveAll: false,
      logger: options.logger ?? silentLogger,
      supervisor: options.supervisor,
      signal: options.signal,
      ...(ask && { ask, client: 'mcp client' }),
      ...(onEvent && { onEvent }),
    },
    inputs,
  );
  inFlight.add(running);
  const { outcome, state } = await running.finally(() => inFlight.delete(running));
  const report = runReport(state, workflow);
  const lines = [`${workflow.name} ${report.status} (run ${report.run_id})`];
  for (const step of report.steps) lines.push(`  ${step.id}: ${step.status}${step.error ? ` — ${step.error.split('\n')[0] ?? ''}` : ''}`);
  if (outcome === 'paused') {
    const waiting = report.steps.filter((s) => s.status === 'waiting').map((s) => s.id);
    lines.push(
      `Paused: ${waiting.join(', ')} await${waiting.length === 1 ? 's' : ''} a person's approval.`,
      ...waiting.map((w) => `  orch -C ${JSON.stringify(project.dir)} approve ${report.run_id} ${w}`),
      `  orch -C ${JSON.stringify(project.dir)} resume ${report.run_id}`,
    );
  }
  return {
    content: [{ type: 'text', text: lines.join('\n') }],
    structuredContent: { ...report },
    isError: outcome === 'failed' || outcome === 'interrupted',
  };
}
