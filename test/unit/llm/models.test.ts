import { afterEach, describe, expect, it } from 'vitest';
import { inspectProject } from '../../../src/config/load.js';
import type { Project } from '../../../src/config/model.js';
import { isOrchError } from '../../../src/errors.js';
import { missingKey, resolveModel, type ModelRef } from '../../../src/llm/models.js';
import { costOf, priceOf } from '../../../src/llm/prices.js';
import { tempProject } from '../../helpers/project.js';

/** agent-team.yaml with one agent `a` (the given lines) and, optionally, a `models:` block. */
const team = (agent: string, models = ''): string => `${models}agents:\n  - role: a\n${agent}`;

const local = 'models:\n  local:\n    provider: openai-compatible\n    base_url: http://127.0.0.1:8000\n    model: qwen2.5:7b\n    api_key_env: LOCAL_LLM_KEY\n    price: { input_per_mtok: 0.5, output_per_mtok: 1.5 }\n';

interface Case {
  name: string;
  yaml: string;
  env?: NodeJS.ProcessEnv;
  expected: ModelRef;
}

const anthropic = (model: string, baseURL = 'https://api.anthropic.com/v1'): ModelRef => ({ provider: 'anthropic', model, baseURL, apiKeyEnv: 'ANTHROPIC_API_KEY' });
const openai = (model: string, baseURL = 'https://api.openai.com/v1'): ModelRef => ({ provider: 'openai', model, baseURL, apiKeyEnv: 'OPENAI_API_KEY' });
const ollama = (model: string, baseURL = 'http://127.0.0.1:11434/v1'): ModelRef => ({ provider: 'openai-compatible', model, baseURL, price: { inputPerMTok: 0, outputPerMTok: 0 } });

const cases: Case[] = [
  { name: 'claude-* is Anthropic at its public API', yaml: team('    model: claude-sonnet-4-5\n'), expected: anthropic('claude-sonnet-4-5') },
  {
    name: 'ANTHROPIC_BASE_URL without /v1 gets it',
    yaml: team('    model: claude-haiku-4-5\n'),
    env: { ANTHROPIC_BASE_URL: 'http://gw.internal:8080' },
    expected: anthropic('claude-haiku-4-5', 'http://gw.internal:8080/v1'),
  },
  {
    name: 'ANTHROPIC_BASE_URL with /v1/ keeps one',
    yaml: team('    model: claude-haiku-4-5\n'),
    env: { ANTHROPIC_BASE_URL: 'http://gw.internal:8080/v1/' },
    expected: anthropic('claude-haiku-4-5', 'http://gw.internal:8080/v1'),
  },
  {
    name: 'an Anthropic gateway path gets /v1 as the Anthropic SDK gives it',
    yaml: team('    model: claude-opus-4-5\n'),
    env: { ANTHROPIC_BASE_URL: 'https://gateway.example/acct/anthropic' },
    expected: anthropic('claude-opus-4-5', 'https://gateway.example/acct/anthropic/v1'),
  },
  { name: 'gpt-* is OpenAI', yaml: team('    model: gpt-4.1-mini\n'), expected: openai('gpt-4.1-mini') },
  { name: 'o1* is OpenAI', yaml: team('    model: o1-mini\n'), expected: openai('o1-mini') },
  { name: 'o3* is OpenAI', yaml: team('    model: o3\n'), expected: openai('o3') },
  { name: 'o4* is OpenAI', yaml: team('    model: o4-mini\n'), expected: openai('o4-mini') },
  {
    name: 'OPENAI_BASE_URL as a bare origin gets /v1',
    yaml: team('    model: gpt-4o\n'),
    env: { OPENAI_BASE_URL: 'http://127.0.0.1:8000' },
    expected: openai('gpt-4o', 'http://127.0.0.1:8000/v1'),
  },
  {
    name: 'OPENAI_BASE_URL with /v1 stays',
    yaml: team('    model: gpt-4o\n'),
    env: { OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1/' },
    expected: openai('gpt-4o', 'http://127.0.0.1:8000/v1'),
  },
  {
    name: 'OPENAI_BASE_URL with another API path stays as given',
    yaml: team('    model: gpt-4o\n'),
    env: { OPENAI_BASE_URL: 'https://llm.example/v1beta/openai/' },
    expected: openai('gpt-4o', 'https://llm.example/v1beta/openai'),
  },
  { name: 'ollama/<name> is Ollama on this machine, free, without a key', yaml: team('    model: ollama/llama3.1:8b\n'), expected: ollama('llama3.1:8b') },
  { name: 'OLLAMA_HOST host:port', yaml: team('    model: ollama/llama3.1\n'), env: { OLLAMA_HOST: 'gpu-box:11500' }, expected: ollama('llama3.1', 'http://gpu-box:11500/v1') },
  { name: 'OLLAMA_HOST host alone takes Ollama\'s port', yaml: team('    model: ollama/llama3.1\n'), env: { OLLAMA_HOST: 'gpu-box' }, expected: ollama('llama3.1', 'http://gpu-box:11434/v1') },
  { name: 'OLLAMA_HOST as a URL with /v1', yaml: team('    model: ollama/llama3.1\n'), env: { OLLAMA_HOST: 'http://gpu-box:11434/v1' }, expected: ollama('llama3.1', 'http://gpu-box:11434/v1') },
  {
    name: 'a models: entry, its base URL given without /v1',
    yaml: team('    model: local\n', local),
    expected: { provider: 'openai-compatible', model: 'qwen2.5:7b', baseURL: 'http://127.0.0.1:8000/v1', apiKeyEnv: 'LOCAL_LLM_KEY', price: { inputPerMTok: 0.5, outputPerMTok: 1.5 } },
  },
  {
    name: 'a models: entry without a provider infers it from its model, and overrides the price',
    yaml: team('    model: fast\n', 'models:\n  fast:\n    model: claude-haiku-4-5\n    price: { input_per_mtok: 0.9, output_per_mtok: 4 }\n'),
    expected: { ...anthropic('claude-haiku-4-5'), price: { inputPerMTok: 0.9, outputPerMTok: 4 } },
  },
  {
    name: 'a models: entry naming an Ollama model with its own host',
    yaml: team('    model: box\n', 'models:\n  box:\n    model: ollama/qwen3\n    base_url: http://gpu-box:11434/\n'),
    expected: ollama('qwen3', 'http://gpu-box:11434/v1'),
  },
  { name: 'provider: overrides a name that implies none', yaml: team('    model: my-finetune\n    provider: anthropic\n'), expected: anthropic('my-finetune') },
  {
    name: 'provider: openai-compatible overrides a claude-* name, served at OPENAI_BASE_URL without a key',
    yaml: team('    model: claude-via-proxy\n    provider: openai-compatible\n'),
    env: { OPENAI_BASE_URL: 'http://proxy.local:4000' },
    expected: { provider: 'openai-compatible', model: 'claude-via-proxy', baseURL: 'http://proxy.local:4000/v1' },
  },
  {
    name: 'provider: openai-compatible takes OPENAI_API_KEY when it is set',
    yaml: team('    model: llama-3-70b\n    provider: openai-compatible\n'),
    env: { OPENAI_BASE_URL: 'http://proxy.local:4000/v1', OPENAI_API_KEY: 'sk-x' },
    expected: { provider: 'openai-compatible', model: 'llama-3-70b', baseURL: 'http://proxy.local:4000/v1', apiKeyEnv: 'OPENAI_API_KEY' },
  },
  {
    name: 'provider: on the agent overrides its models: entry\'s',
    yaml: team('    model: local\n    provider: openai\n', local),
    expected: { provider: 'openai', model: 'qwen2.5:7b', baseURL: 'http://127.0.0.1:8000/v1', apiKeyEnv: 'LOCAL_LLM_KEY', price: { inputPerMTok: 0.5, outputPerMTok: 1.5 } },
  },
];

interface ErrorCase {
  name: string;
  yaml: string;
  env?: NodeJS.ProcessEnv;
  message: string;
  hint?: string;
}

const errorCases: ErrorCase[] = [
  { name: 'a name that implies no provider', yaml: team('    model: llama3\n'), message: '`llama3` names no provider', hint: '`ollama/<name>`' },
  { name: 'a misspelt models: name', yaml: team('    model: locl\n', local), message: '`locl`', hint: 'did you mean `local`' },
  { name: 'openai-compatible with no server named', yaml: team('    model: x\n    provider: openai-compatible\n'), message: 'none is named', hint: 'OPENAI_BASE_URL' },
  { name: 'ollama/ with no model', yaml: team('    model: ollama/\n'), message: 'names no Ollama model' },
];

describe('resolveModel', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  async function load(yaml: string): Promise<Project> {
    const p = tempProject({ 'agent-team.yaml': yaml });
    cleanup = p.cleanup;
    const { project, issues } = await inspectProject({ dir: p.dir });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    if (!project) throw new Error('no project');
    return project;
  }

  it.each(cases)('$name', async ({ yaml, env, expected }) => {
    expect(resolveModel(await load(yaml), 'a', env ?? {})).toEqual(expected);
  });

  it.each(errorCases)('ORCH_MODEL_UNKNOWN: $name', async ({ yaml, env, message, hint }) => {
    const project = await load(yaml);
    let caught: unknown;
    try {
      resolveModel(project, 'a', env ?? {});
    } catch (err) {
      caught = err;
    }
    expect(isOrchError(caught) && caught.code).toBe('ORCH_MODEL_UNKNOWN');
    expect(isOrchError(caught) && caught.exitCode).toBe(2);
    expect(String(caught)).toContain(message);
    if (hint) expect(isOrchError(caught) && caught.hint).toContain(hint);
    expect(isOrchError(caught) && caught.location?.file).toMatch(/agent-team\.yaml$/);
  });
});

describe('the models: schema', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it.each([
    { name: 'openai-compatible without base_url', models: 'models:\n  m:\n    provider: openai-compatible\n    model: x\n', message: 'base_url' },
    { name: 'an unknown provider', models: 'models:\n  m:\n    provider: antropic\n    model: x\n', message: 'models.m.provider' },
    { name: 'a price without its output side', models: 'models:\n  m:\n    model: gpt-4o\n    price: { input_per_mtok: 1 }\n', message: 'output_per_mtok' },
    { name: 'a key variable that is not a name', models: 'models:\n  m:\n    model: gpt-4o\n    api_key_env: $KEY\n', message: 'api_key_env' },
  ])('rejects $name', async ({ models, message }) => {
    const p = tempProject({ 'agent-team.yaml': team('    model: m\n', models) });
    cleanup = p.cleanup;
    const { issues } = await inspectProject({ dir: p.dir });
    const errors = issues.filter((i) => i.severity === 'error');
    expect(errors.map((i) => i.code)).toContain('ORCH_SCHEMA');
    expect(errors.map((i) => `${i.message} ${i.hint ?? ''}`).join('\n')).toContain(message);
  });

  it('rejects an unknown agent provider', async () => {
    const p = tempProject({ 'agent-team.yaml': team('    model: x\n    provider: ollama\n') });
    cleanup = p.cleanup;
    const { issues } = await inspectProject({ dir: p.dir });
    expect(issues.filter((i) => i.severity === 'error').map((i) => i.message).join('\n')).toContain('agents[0].provider');
  });
});

describe('missingKey', () => {
  const ref = anthropic('claude-sonnet-4-5');
  it('names the variable when it is unset or empty', () => {
    expect(missingKey(ref, {})).toBe('ANTHROPIC_API_KEY');
    expect(missingKey(ref, { ANTHROPIC_API_KEY: '' })).toBe('ANTHROPIC_API_KEY');
  });
  it('is undefined when the key is set, or the model takes none', () => {
    expect(missingKey(ref, { ANTHROPIC_API_KEY: 'sk-ant-x' })).toBeUndefined();
    expect(missingKey(ollama('llama3.1'), {})).toBeUndefined();
  });
});

describe('prices', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 3, 15],
    ['claude-sonnet-4-20250514', 3, 15],
    ['claude-opus-4-5', 5, 25],
    ['claude-opus-4-20250514', 15, 75],
    ['claude-opus-4-1-20250805', 15, 75],
    ['claude-haiku-4-5', 1, 5],
    ['claude-3-5-haiku-20241022', 0.8, 4],
    ['gpt-4o-2024-08-06', 2.5, 10],
    ['gpt-4o-mini', 0.15, 0.6],
    ['gpt-4.1-nano', 0.1, 0.4],
    ['gpt-5.2', 1.75, 14],
    ['gpt-5-mini-2025-08-07', 0.25, 2],
    ['o3-mini', 1.1, 4.4],
    ['o3', 2, 8],
    ['o4-mini-2025-04-16', 1.1, 4.4],
  ])('%s: $%d in, $%d out per million tokens', (model, input, output) => {
    expect(priceOf({ provider: 'openai', model })).toEqual({ inputPerMTok: input, outputPerMTok: output });
  });

  it('knows no price for a model it has never heard of, nor for a prefix without a boundary', () => {
    expect(priceOf({ provider: 'openai-compatible', model: 'qwen2.5:7b' })).toBeUndefined();
    expect(priceOf({ provider: 'openai', model: 'gpt-4ox' })).toBeUndefined();
  });

  it("takes the project's own price first; a local Ollama model is free", () => {
    expect(priceOf({ provider: 'anthropic', model: 'claude-sonnet-4-5', price: { inputPerMTok: 1, outputPerMTok: 2 } })).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
    expect(priceOf(ollama('llama3.1'))).toEqual({ inputPerMTok: 0, outputPerMTok: 0 });
  });

  it('costs tokens by the million', () => {
    expect(costOf({ input_tokens: 1_000_000, output_tokens: 500_000 }, { inputPerMTok: 3, outputPerMTok: 15 })).toBeCloseTo(10.5, 10);
    expect(costOf({ input_tokens: 1200, output_tokens: 300 }, { inputPerMTok: 3, outputPerMTok: 15 })).toBeCloseTo(0.0081, 10);
  });
});
