import type { AgentDef, ModelDef, Project } from '../../../src/config/model.js';
import type { ChatTool } from '../../../src/llm/chat.js';
import { resolveModel, type ModelRef } from '../../../src/llm/models.js';
import type { LlmStub, StubRequest } from '../../helpers/llm-stub.js';

/** Looks like a key, and must never show up in an error, a message or a file. */
export const KEY = 'sk-test-KEY-never-shown-5f1c9e';

export type Api = 'anthropic' | 'openai' | 'openai-compatible';
export const APIS: Api[] = ['anthropic', 'openai', 'openai-compatible'];

/**
 * The model of one agent on each provider, reached at the stub through the base-URL
 * variables, as a user's environment would: claude-* via ANTHROPIC_BASE_URL, gpt-* via
 * OPENAI_BASE_URL, a `models:` entry for the OpenAI-compatible one.
 */
export function modelAt(stub: LlmStub, api: Api): { ref: ModelRef; env: NodeJS.ProcessEnv } {
  const env = { ANTHROPIC_API_KEY: KEY, OPENAI_API_KEY: KEY, LOCAL_KEY: KEY, ANTHROPIC_BASE_URL: stub.anthropicBase, OPENAI_BASE_URL: stub.openaiBase };
  const model = api === 'anthropic' ? 'claude-sonnet-4-5' : api === 'openai' ? 'gpt-4.1' : 'local';
  const local: ModelDef = { name: 'local', provider: 'openai-compatible', model: 'qwen2.5:7b', baseUrl: stub.url, apiKeyEnv: 'LOCAL_KEY', origin: { file: 'agent-team.yaml', path: ['models', 'local'] } };
  const agent: AgentDef = { role: 'reviewer', model, count: 1, isolation: 'inline', origin: { file: 'agent-team.yaml', path: ['agents', 0] } };
  const project: Project = {
    dir: '/nowhere',
    files: {},
    tools: new Map(),
    servers: new Map(),
    agents: new Map([['reviewer', agent]]),
    workflows: new Map(),
    models: new Map([['local', local]]),
  };
  return { ref: resolveModel(project, 'reviewer', env), env };
}

export const TOOLS: ChatTool[] = [
  {
    name: 'memory.create_entities',
    description: 'Create entities in the knowledge graph',
    inputSchema: { type: 'object', properties: { names: { type: 'array', items: { type: 'string' } } }, required: ['names'] },
  },
  { name: 'echo', description: 'Echo a text', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
];

/** The tool names a request offered, whichever API it spoke. */
export function offeredTools(request: StubRequest): string[] {
  const tools = (request.body.tools ?? []) as { name?: string; function?: { name: string } }[];
  return tools.map((t) => t.name ?? t.function?.name ?? '?');
}

/** The messages a request sent (the body's `messages`). */
export function sentMessages(request: StubRequest): Record<string, unknown>[] {
  return (request.body.messages ?? []) as Record<string, unknown>[];
}
