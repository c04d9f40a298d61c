import type { AgentCard, AgentSkill } from '@a2a-js/sdk';
import type { Project, WorkflowDef } from '../config/model.js';
import { servedWorkflows } from './workflow-tools.js';

/** The role whose model answers a text message: the team's planner (`orchestration.planner`, default `orchestrator`). */
export function orchestratorRole(project: Project): string | undefined {
  const role = project.orchestration?.planner ?? 'orchestrator';
  return project.agents.get(role)?.model ? role : undefined;
}

/** The security scheme's name in the card, when `--token-env` asks for a bearer token. */
export const BEARER_SCHEME = 'bearer';

/**
 * The team as an A2A Agent Card: its name, description and version from the project,
 * one skill per served workflow (its inputs described, and an example message), and a
 * skill for the orchestrator when it has a model. The JSON-RPC endpoint is offered for
 * protocol 1.0 and, at the same URL, for 0.3 clients.
 */
export function teamCard(project: Project, options: { url: string; version: string; bearer: boolean }): AgentCard {
  const skills: AgentSkill[] = servedWorkflows(project).map(workflowSkill);
  const orchestrator = orchestratorRole(project);
  if (orchestrator) {
    skills.push({
      id: orchestrator,
      name: orchestrator,
      description: `${project.agents.get(orchestrator)?.description ?? 'The team\'s orchestrator'}: send a text message with a task, and the \`${orchestrator}\` agent carries it out with the team.`,
      tags: ['orchestrator'],
      examples: [],
      inputModes: ['text/plain'],
      outputModes: ['application/json', 'text/plain'],
      securityRequirements: [],
    });
  }
  const name = project.team?.name ?? project.name ?? 'orch';
  return {
    name,
    description: project.team?.description ?? `The ${name} team, served by orch: one skill per workflow.`,
    version: project.version ?? options.version,
    supportedInterfaces: [
      { url: options.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
      { url: options.url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
    ],
    provider: undefined,
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: options.bearer
      ? {
          [BEARER_SCHEME]: {
            scheme: { $case: 'httpAuthSecurityScheme', value: { scheme: 'Bearer', description: 'Authorization: Bearer <token>, the token `orch serve --token-env` was given', bearerFormat: '' } },
          },
        }
      : {},
    securityRequirements: options.bearer ? [{ schemes: { [BEARER_SCHEME]: { list: [] } } }] : [],
    defaultInputModes: ['application/json', 'text/plain'],
    defaultOutputModes: ['application/json', 'text/plain'],
    skills,
    signatures: [],
  };
}

function workflowSkill(workflow: WorkflowDef): AgentSkill {
  const inputs = workflow.inputs.map(
    (i) => `\`${i.name}\` (${i.type}${i.required ? ', required' : ''}${i.default !== undefined ? `, default ${JSON.stringify(i.default)}` : ''})${i.description ? `: ${i.description}` : ''}`,
  );
  const example = Object.fromEntries(workflow.inputs.map((i) => [i.name, i.default ?? exampleOf(i.type)]));
  const summary = workflow.description ?? `Runs the workflow ${workflow.name} (${workflow.steps.map((s) => s.id).join(' → ')})`;
  return {
    id: workflow.name,
    name: workflow.name,
    description: `${summary}. Send a data part {"workflow": "${workflow.name}", "inputs": {...}}. ${inputs.length ? `Inputs: ${inputs.join('; ')}.` : 'It takes no inputs.'}`,
    tags: ['workflow'],
    examples: [JSON.stringify({ workflow: workflow.name, inputs: example })],
    inputModes: ['application/json'],
    outputModes: ['application/json'],
    securityRequirements: [],
  };
}

function exampleOf(type: string): unknown {
  switch (type) {
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return '...';
  }
}
