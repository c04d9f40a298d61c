import { parseDuration } from './duration.js';
import { expandField, expandMap, type VarScope } from './expand.js';
import { under, type IssueSink } from './locate.js';
import type {
  AgentDef,
  BudgetDef,
  Coordination,
  GateDef,
  GateType,
  InputDef,
  JsonType,
  LlmProvider,
  ModelDef,
  OnFailure,
  OrchestrationDef,
  Origin,
  StepDef,
  TeamDef,
  EngineDef,
  WorkflowDef,
} from './model.js';

interface RawAgent {
  role: string;
  description?: string;
  model?: string;
  provider?: LlmProvider;
  system_prompt?: string;
  tools?: (string | { name: string; approval?: 'required' })[];
  count?: number;
  replicas?: number;
  isolation?: 'inline' | 'process';
  max_iterations?: number;
  approval?: 'destructive';
  budget?: RawBudget;
  max_tool_result_chars?: number;
  handoffs?: string[];
  a2a?: string;
  headers?: Record<string, string>;
}

interface RawBudget {
  max_turns?: number;
  max_tokens?: number;
  max_cost_usd?: number;
  timeout?: number | string;
}

interface RawStep {
  id?: string;
  agent: string;
  action: string;
  with?: Record<string, unknown>;
  needs?: string | string[];
  if?: string | boolean;
  gate?: GateType | { type: GateType; when?: 'before' | 'after' };
  retry?: number | { max: number; backoff?: number | string };
  timeout?: number | string;
  on_failure?: OnFailure;
  budget?: RawBudget;
  output_schema?: Record<string, unknown>;
}

type RawWorkflow =
  | RawStep[]
  | { description?: string; inputs?: Record<string, { type?: JsonType; description?: string; required?: boolean; default?: unknown }>; steps: RawStep[] };

export interface RawTeamFile {
  team?: { name: string; description?: string; coordination?: Coordination; budget?: RawBudget; max_delegation_depth?: number };
  orchestration?: {
    failure_policy?: { max_retries?: number; max_reassignments?: number; on_exhausted?: 'partial' | 'abort' };
    planner?: string;
    aggregate?: 'rules' | 'llm';
    monitor?: 'rules' | 'llm';
  };
  engine?: string;
  state_management?: RawStateManagement;
  agents?: RawAgent[];
  workflows?: Record<string, RawWorkflow>;
  models?: Record<string, RawModel>;
}

interface RawStateManagement {
  backend?: 'redis' | 'local';
  connection?: string;
  key_prefix?: string;
  persistence?: { snapshot_interval?: string | number; snapshot_backend?: string };
  isolation?: { strategy?: 'namespace' | 'shared' };
  recovery?: { on_agent_crash?: string; on_state_corruption?: string };
}

interface RawModel {
  provider?: LlmProvider;
  model: string;
  base_url?: string;
  api_key_env?: string;
  price?: { input_per_mtok: number; output_per_mtok: number };
}

const DEFAULT_RETRY_BACKOFF_MS = 1000;

export function normaliseTeam(
  raw: RawTeamFile,
  file: string,
  sink: IssueSink,
  scope: VarScope,
): {
  team?: TeamDef;
  agents: Map<string, AgentDef>;
  workflows: Map<string, WorkflowDef>;
  orchestration?: OrchestrationDef;
  models?: Map<string, ModelDef>;
  engine?: EngineDef;
} {
  const root: Origin = { file, path: [] };
  const engine = engineOf(raw, root, sink);
  const team: TeamDef | undefined = raw.team
    ? {
        name: raw.team.name,
        description: raw.team.description,
        coordination: raw.team.coordination ?? 'centralized',
        budget: budgetOf(raw.team.budget),
        ...(raw.team.max_delegation_depth !== undefined && { maxDelegationDepth: raw.team.max_delegation_depth }),
      }
    : undefined;

  const agents = new Map<string, AgentDef>();
  (raw.agents ?? []).forEach((a, i) => {
    const at = under(root, 'agents', i);
    if (agents.has(a.role)) {
      sink.error('ORCH_DUPLICATE_AGENT', under(at, 'role'), `agent role \`${a.role}\` is declared twice`, {
        hint: 'give each agent type a unique role; use `count` for more instances of one',
      });
      return;
    }
    if (a.count !== undefined && a.replicas !== undefined && a.count !== a.replicas) {
      sink.error('ORCH_AGENT_COUNT', under(at, 'replicas'), '`count` and `replicas` disagree', {
        key: true,
        hint: 'they mean the same thing: keep one',
      });
    }
    agents.set(a.role, {
      role: a.role,
      description: a.description,
      model: a.model,
      provider: a.provider,
      systemPrompt: a.system_prompt,
      tools: a.tools?.map((t) => (typeof t === 'string' ? t : t.name)),
      count: a.count ?? a.replicas ?? 1,
      isolation: a.isolation ?? 'inline',
      maxIterations: a.max_iterations,
      approvalRequired: a.tools?.flatMap((t) => (typeof t !== 'string' && t.approval === 'required' ? [t.name] : [])),
      approval: a.approval,
      // `max_iterations` is the older name of a turn limit: it is the agent's `max_turns` unless its budget says otherwise.
      budget: budgetOf(a.budget, a.max_iterations),
      maxToolResultChars: a.max_tool_result_chars,
      ...(a.handoffs !== undefined && { handoffs: a.handoffs }),
      ...(a.a2a !== undefined && {
        a2a: { url: expandField(sink, scope, under(at, 'a2a'), a.a2a), headers: expandMap(sink, scope, under(at, 'headers'), a.headers) },
      }),
      ...(a.a2a === undefined && a.headers !== undefined && { strayHeaders: true }),
      origin: at,
    });
  });

  const workflows = new Map<string, WorkflowDef>();
  for (const [name, wf] of Object.entries(raw.workflows ?? {})) {
    const at = under(root, 'workflows', name);
    const stepsRaw = Array.isArray(wf) ? wf : wf.steps;
    const stepsAt = Array.isArray(wf) ? at : under(at, 'steps');
    const inputs: InputDef[] = Array.isArray(wf)
      ? []
      : Object.entries(wf.inputs ?? {}).map(([inputName, input]) => ({
          name: inputName,
          type: input.type ?? 'string',
          description: input.description,
          required: input.required === true,
          default: input.default,
        }));
    workflows.set(name, {
      name,
      description: Array.isArray(wf) ? undefined : wf.description,
      inputs,
      steps: normaliseSteps(stepsRaw, stepsAt, sink),
      origin: at,
    });
  }
  const policy = raw.orchestration?.failure_policy;
  const orchestration: OrchestrationDef | undefined = raw.orchestration
    ? {
        failurePolicy: policy && { maxRetries: policy.max_retries, maxReassignments: policy.max_reassignments, onExhausted: policy.on_exhausted },
        ...(raw.orchestration.planner !== undefined && { planner: raw.orchestration.planner }),
        ...(raw.orchestration.aggregate !== undefined && { aggregate: raw.orchestration.aggregate }),
        ...(raw.orchestration.monitor !== undefined && { monitor: raw.orchestration.monitor }),
      }
    : undefined;
  const models = raw.models ? normaliseModels(raw.models, under(root, 'models')) : undefined;
  return { team, agents, workflows, orchestration, models, ...(engine && { engine }) };
}

/**
 * `engine: <url>`, or the guide's `state_management:` block (`backend: redis` and its
 * `connection`). What orch keeps otherwise (its state is journals, streams and hashes in
 * the engine; recovery is resume and re-queued jobs) is a warning saying so.
 */
function engineOf(raw: RawTeamFile, root: Origin, sink: IssueSink): EngineDef | undefined {
  const sm = raw.state_management;
  if (raw.engine === undefined && sm === undefined) return undefined;
  const at = under(root, 'state_management');
  let url = raw.engine;
  if (sm) {
    if (sm.backend === 'local' && sm.connection !== undefined) {
      sink.warn('ORCH_ENGINE_OPTION_IGNORED', under(at, 'connection'), '`connection` is not used with `backend: local`', {
        key: true,
        hint: 'set `backend: redis` to schedule on the queue engine at that URL, or remove `connection`',
      });
    }
    if (sm.backend !== 'local' && sm.connection !== undefined) {
      if (url !== undefined && url !== sm.connection) {
        sink.warn('ORCH_ENGINE_OPTION_IGNORED', under(at, 'connection'), `\`engine: ${url}\` is used; this \`connection\` is not`, {
          key: true,
          hint: 'keep one of `engine:` and `state_management.connection`',
        });
      }
      url ??= sm.connection;
    }
    if (sm.backend === 'redis' && url === undefined) {
      sink.error('ORCH_ENGINE_URL', under(at, 'backend'), '`backend: redis` needs a `connection`', {
        hint: 'add `connection: redis://host:6379/0` (or set ORCH_ENGINE, or pass --engine)',
      });
    }
    for (const key of ['snapshot_interval', 'snapshot_backend'] as const) {
      if (sm.persistence?.[key] === undefined) continue;
      sink.warn('ORCH_ENGINE_OPTION_IGNORED', under(at, 'persistence', key), `\`${key}\` is not honoured: runs are journalled event by event in the engine, so there are no snapshots to take`, {
        key: true,
        hint: 'remove it; `orch resume <run>` rebuilds a run from its journal',
      });
    }
    for (const key of ['on_agent_crash', 'on_state_corruption'] as const) {
      if (sm.recovery?.[key] === undefined) continue;
      sink.warn('ORCH_ENGINE_OPTION_IGNORED', under(at, 'recovery', key), `\`${key}\` is not honoured: a dead worker's jobs are taken over by another worker, and a run resumes from its journal`, {
        key: true,
        hint: 'remove it; see `orch worker` and `orch resume` in the README',
      });
    }
  }
  return {
    ...(url !== undefined && { url }),
    ...(sm?.key_prefix !== undefined && { keyPrefix: sm.key_prefix }),
    ...(sm?.isolation?.strategy !== undefined && { isolation: sm.isolation.strategy }),
    origin: raw.engine !== undefined ? under(root, 'engine') : at,
  };
}

function normaliseModels(raw: Record<string, RawModel>, at: Origin): Map<string, ModelDef> {
  const models = new Map<string, ModelDef>();
  for (const [name, m] of Object.entries(raw)) {
    models.set(name, {
      name,
      provider: m.provider,
      model: m.model,
      baseUrl: m.base_url,
      apiKeyEnv: m.api_key_env,
      price: m.price && { inputPerMTok: m.price.input_per_mtok, outputPerMTok: m.price.output_per_mtok },
      origin: under(at, name),
    });
  }
  return models;
}

function normaliseSteps(raw: RawStep[], at: Origin, sink: IssueSink): StepDef[] {
  const explicit = new Map<string, number>();
  raw.forEach((step, i) => {
    if (step.id === undefined) return;
    const first = explicit.get(step.id);
    if (first !== undefined) {
      sink.error('ORCH_DUPLICATE_STEP', under(at, i, 'id'), `step id \`${step.id}\` is already used by step ${first + 1}`, {
        hint: 'give each step a unique `id`',
      });
    } else {
      explicit.set(step.id, i);
    }
  });
  const taken = new Set(explicit.keys());
  const ids = raw.map((step) => {
    if (step.id !== undefined) return step.id;
    let id = step.action;
    for (let n = 2; taken.has(id); n++) id = `${step.action}_${n}`;
    taken.add(id);
    return id;
  });

  return raw.map((step, i): StepDef => {
    const stepAt = under(at, i);
    const previous = i > 0 ? ids[i - 1] : undefined;
    const needs =
      step.needs === undefined ? (previous === undefined ? [] : [previous]) : typeof step.needs === 'string' ? [step.needs] : step.needs;
    const gate = normaliseGate(step.gate, stepAt, sink);
    return {
      id: ids[i] ?? step.action,
      agent: step.agent,
      action: step.action,
      with: step.with ?? {},
      needs,
      if: step.if === undefined ? undefined : String(step.if),
      gate,
      retry:
        step.retry === undefined
          ? undefined
          : typeof step.retry === 'number'
            ? { max: step.retry, backoffMs: DEFAULT_RETRY_BACKOFF_MS }
            : { max: step.retry.max, backoffMs: parseDuration(step.retry.backoff) ?? DEFAULT_RETRY_BACKOFF_MS },
      timeoutMs: parseDuration(step.timeout),
      onFailure: step.on_failure ?? 'abort',
      budget: budgetOf(step.budget),
      outputSchema: step.output_schema,
      origin: stepAt,
    };
  });
}

function budgetOf(raw: RawBudget | undefined, maxIterations?: number): BudgetDef | undefined {
  if (!raw && maxIterations === undefined) return undefined;
  return {
    maxTurns: raw?.max_turns ?? maxIterations,
    maxTokens: raw?.max_tokens,
    maxCostUsd: raw?.max_cost_usd,
    timeoutMs: parseDuration(raw?.timeout),
  };
}

function normaliseGate(raw: RawStep['gate'], stepAt: Origin, sink: IssueSink): GateDef | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string') return { type: raw, when: 'after' };
  const when = raw.when ?? 'after';
  if (raw.type === 'tests_must_pass' && when === 'before') {
    sink.error('ORCH_GATE_WHEN', under(stepAt, 'gate', 'when'), '`tests_must_pass` checks a result, so it can only apply `after` the step', {
      hint: 'drop `when: before`, or use `approval_required` to ask before the step runs',
    });
  }
  return { type: raw.type, when };
}
