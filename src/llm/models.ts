import type { LlmProvider, ModelDef, ModelPrice, Origin, Project } from '../config/model.js';
import { OrchError } from '../errors.js';
import { formatKeyPath, suggest } from '../util/suggest.js';
import { llmError } from './errors.js';

/** Which model an agent talks to, and how: everything a provider call needs but the key itself. */
export interface ModelRef {
  provider: LlmProvider;
  /** The name the provider knows the model by (`ollama/` already stripped). */
  model: string;
  /** The endpoint, normalised (section "Base URLs" below); resolveModel always sets it. */
  baseURL?: string;
  /** Variable holding the API key; absent when the provider takes none. */
  apiKeyEnv?: string;
  /** USD per million tokens when the project says so (a `models:` price, or a local Ollama model: free). */
  price?: ModelPrice;
}

/** The providers' own endpoints, used when neither a `models:` entry nor the environment names one. */
export const PUBLIC_BASE_URL: Record<LlmProvider, string | undefined> = {
  anthropic: 'https://api.anthropic.com/v1',
  openai: 'https://api.openai.com/v1',
  'openai-compatible': undefined,
};

const KEY_ENV: Record<LlmProvider, string | undefined> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  'openai-compatible': undefined,
};
const BASE_URL_ENV: Record<LlmProvider, string> = {
  anthropic: 'ANTHROPIC_BASE_URL',
  openai: 'OPENAI_BASE_URL',
  'openai-compatible': 'OPENAI_BASE_URL',
};
const OLLAMA_DEFAULT = 'http://127.0.0.1:11434/v1';
const OLLAMA_PREFIX = 'ollama/';

/**
 * The model an agent talks to (issue 10's rules, in order): a name from the team's
 * `models:` map; else `ollama/<name>` → Ollama's OpenAI-compatible API at `OLLAMA_HOST`
 * (default 127.0.0.1:11434), no key; else `claude-*` → Anthropic, `gpt-*`, `o1*`, `o3*`,
 * `o4*` → OpenAI, with keys and base URLs from `ANTHROPIC_*` / `OPENAI_*`. An agent's
 * `provider:` overrides what the name (or its `models:` entry) implies.
 */
export function resolveModel(project: Project, agentRole: string, env: NodeJS.ProcessEnv = process.env): ModelRef {
  const agent = project.agents.get(agentRole);
  if (!agent) throw new OrchError('ORCH_UNKNOWN_AGENT', `the team has no agent \`${agentRole}\``);
  // planAction routes only agents with a model here: anything else is a caller's bug.
  if (agent.model === undefined) throw new Error(`agent \`${agentRole}\` has no model to resolve`);
  const entry = project.models?.get(agent.model);
  const at = { file: agent.origin.file, path: formatKeyPath([...agent.origin.path, 'model']) };
  const name = entry?.model ?? agent.model;
  const provider = agent.provider ?? entry?.provider;

  if (name.startsWith(OLLAMA_PREFIX) && (provider === undefined || provider === 'openai-compatible')) {
    const model = name.slice(OLLAMA_PREFIX.length);
    if (model === '') {
      throw llmError('ORCH_MODEL_UNKNOWN', `agent \`${agentRole}\`'s model \`${name}\` names no Ollama model`, {
        location: at,
        hint: 'write `ollama/<name>`, e.g. `ollama/llama3.1`',
      });
    }
    return {
      provider: 'openai-compatible',
      model,
      baseURL: entry?.baseUrl !== undefined ? normaliseBaseURL('openai-compatible', entry.baseUrl) : ollamaBaseURL(env.OLLAMA_HOST),
      apiKeyEnv: entry?.apiKeyEnv,
      // A model on the user's own machine costs nothing per token.
      price: entry?.price ?? { inputPerMTok: 0, outputPerMTok: 0 },
    };
  }

  const chosen = provider ?? inferProvider(name);
  if (chosen === undefined) {
    const guess = suggest(agent.model, [...(project.models?.keys() ?? [])]);
    throw llmError('ORCH_MODEL_UNKNOWN', `agent \`${agentRole}\`'s model \`${name}\` names no provider orch knows`, {
      location: entry ? locate(entry.origin, 'model') : at,
      hint: guess
        ? `did you mean \`${guess}\` (declared under \`models:\`)?`
        : 'use a `claude-*`, `gpt-*`, `o1*`/`o3*`/`o4*` or `ollama/<name>` model, set `provider:`, or declare the model under `models:`',
    });
  }
  const where = entry ? locate(entry.origin, 'base_url') : at;
  return { provider: chosen, model: name, ...endpoint(chosen, entry, env, where, agentRole), price: entry?.price };
}

/** The provider a model name implies, if any. */
function inferProvider(model: string): LlmProvider | undefined {
  const name = model.toLowerCase();
  if (name.startsWith('claude-')) return 'anthropic';
  if (name.startsWith('gpt-') || /^o[134]/.test(name)) return 'openai';
  if (name.startsWith(OLLAMA_PREFIX)) return 'openai-compatible';
  return undefined;
}

function endpoint(
  provider: LlmProvider,
  entry: ModelDef | undefined,
  env: NodeJS.ProcessEnv,
  at: { file: string; path: string },
  agentRole: string,
): { baseURL: string; apiKeyEnv?: string } {
  const given = entry?.baseUrl ?? nonEmpty(env[BASE_URL_ENV[provider]]);
  const baseURL = given !== undefined ? normaliseBaseURL(provider, given) : PUBLIC_BASE_URL[provider];
  if (baseURL === undefined) {
    throw llmError('ORCH_MODEL_UNKNOWN', `agent \`${agentRole}\`'s model is served by an OpenAI-compatible server, but none is named`, {
      location: at,
      hint: 'declare the model under `models:` with a `base_url`, or set OPENAI_BASE_URL',
    });
  }
  // An OpenAI-compatible server named by OPENAI_BASE_URL gets OPENAI_API_KEY when there is one; a `models:` entry says.
  const openaiKey = entry === undefined && nonEmpty(env.OPENAI_API_KEY) !== undefined ? 'OPENAI_API_KEY' : undefined;
  const apiKeyEnv = entry?.apiKeyEnv ?? KEY_ENV[provider] ?? openaiKey;
  return apiKeyEnv === undefined ? { baseURL } : { baseURL, apiKeyEnv };
}

/**
 * Base URLs: trailing slashes dropped; Anthropic's always end in `/v1` (as its own SDK
 * treats `ANTHROPIC_BASE_URL`, so `https://gateway/anthropic` works); OpenAI-style ones get
 * `/v1` only when they are a bare origin (`http://127.0.0.1:8000`), since many servers put
 * their API under another path (`.../v1beta/openai`) that `/v1` would break.
 */
function normaliseBaseURL(provider: LlmProvider, url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  if (/\/v1$/.test(trimmed)) return trimmed;
  if (provider === 'anthropic') return `${trimmed}/v1`;
  return /^[a-z][a-z0-9+.-]*:\/\/[^/]+$/i.test(trimmed) ? `${trimmed}/v1` : trimmed;
}

/** `OLLAMA_HOST` as Ollama itself reads it: `host`, `host:port` or a URL; no scheme means http and port 11434. */
function ollamaBaseURL(host: string | undefined): string {
  const value = host?.trim();
  if (!value) return OLLAMA_DEFAULT;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return normaliseBaseURL('openai-compatible', value);
  const [hostPort = '', ...rest] = value.split('/');
  const withPort = /:\d+$/.test(hostPort) ? hostPort : `${hostPort || '127.0.0.1'}:11434`;
  return normaliseBaseURL('openai-compatible', [`http://${withPort}`, ...rest].join('/'));
}

/** The variable a model needs for its key when it is not set (or empty); undefined when nothing is missing. */
export function missingKey(ref: ModelRef, env: NodeJS.ProcessEnv): string | undefined {
  if (ref.apiKeyEnv === undefined) return undefined;
  return nonEmpty(env[ref.apiKeyEnv]) === undefined ? ref.apiKeyEnv : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function locate(origin: Origin, key: string): { file: string; path: string } {
  return { file: origin.file, path: formatKeyPath([...origin.path, key]) };
}
