import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Resource,
} from '@modelcontextprotocol/sdk/types.js';
import type { Project } from '../config/model.js';
import { isOrchError } from '../errors.js';
import type { Redactor } from '../secrets/redact.js';
import { readJournal } from '../state/journal.js';
import { listRunIds, loadRun, runPaths } from '../state/runs.js';
import { runReport } from '../workflow/report.js';

const RUN_URI = /^orch:\/\/runs\/([^/]+)(\/journal)?$/;

/**
 * The project's runs as MCP resources, `orch://runs/<id>` (the run's report, as `--json`
 * prints it) and `orch://runs/<id>/journal` (its journal, one event a line); and each LLM
 * agent's system prompt as an MCP prompt named by its role.
 */
export function serveResources(server: Server, project: Project, stateDir: string, redactor: Redactor): void {
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const ids = (await listRunIds(stateDir)).reverse(); // newest first
    const resources: Resource[] = [];
    for (const id of ids) {
      const state = await loadRun(stateDir, id).catch(() => undefined);
      if (!state) continue;
      const what = `${state.workflow}, ${state.status}`;
      resources.push({ uri: `orch://runs/${id}`, name: `run ${id}`, title: what, description: `The report of run ${id} (${what})`, mimeType: 'application/json' });
      resources.push({ uri: `orch://runs/${id}/journal`, name: `run ${id} journal`, description: `The journal of run ${id}, one event a line`, mimeType: 'application/x-ndjson' });
    }
    return { resources };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [
      { uriTemplate: 'orch://runs/{run_id}', name: 'run report', description: 'The report of a run, as `orch run --json` prints it', mimeType: 'application/json' },
      { uriTemplate: 'orch://runs/{run_id}/journal', name: 'run journal', description: 'The journal of a run, one event a line', mimeType: 'application/x-ndjson' },
    ],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const { uri } = request.params;
    const match = RUN_URI.exec(uri);
    if (!match?.[1]) throw new McpError(ErrorCode.InvalidParams, `Unknown resource: ${uri} (resources are orch://runs/<id> and orch://runs/<id>/journal)`);
    const id = match[1];
    try {
      if (match[2]) {
        const events = await readJournal(runPaths(stateDir, id).journal);
        return { contents: [{ uri, mimeType: 'application/x-ndjson', text: events.map((e) => JSON.stringify(redactor.redact(e))).join('\n') }] };
      }
      const state = await loadRun(stateDir, id);
      const workflow = project.workflows.get(state.workflow);
      // A run of a workflow the project no longer declares (or an A2A text message's): its steps as the journal has them.
      const steps = [...state.steps.values()].map((s) => ({ id: s.id, status: s.status, output: s.output ?? null, error: s.error ?? null }));
      const report = workflow ? runReport(state, workflow) : { run_id: state.runId, workflow: state.workflow, status: state.status, steps };
      return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(redactor.redact(report), null, 2) }] };
    } catch (err) {
      if (isOrchError(err)) throw new McpError(ErrorCode.InvalidParams, `${err.message}${err.hint ? ` (${err.hint})` : ''}`);
      throw err;
    }
  });

  const agents = [...project.agents.values()].filter((a) => a.model !== undefined || a.systemPrompt !== undefined);
  server.setRequestHandler(ListPromptsRequestSchema, () => ({
    prompts: agents.map((a) => ({
      name: a.role,
      description: a.description ?? `The system prompt of the ${a.role} agent`,
      arguments: [{ name: 'task', description: 'A task to append to the prompt', required: false }],
    })),
  }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    const agent = agents.find((a) => a.role === request.params.name);
    if (!agent) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}; prompts: ${agents.map((a) => a.role).join(', ') || '(none)'}`);
    const task = request.params.arguments?.task;
    const prompt = agent.systemPrompt?.trim() ?? `You are the \`${agent.role}\` agent.`;
    return {
      description: agent.description ?? `The system prompt of the ${agent.role} agent`,
      messages: [{ role: 'user' as const, content: { type: 'text' as const, text: task ? `${prompt}\n\nTask: ${task}` : prompt } }],
    };
  });
}
