import type { BudgetDef, Origin, Project } from '../config/model.js';
import { displayPath, parseSource, type SourceFile } from '../config/source.js';
import type { ErrorCode } from '../error-codes.js';
import { isOrchError, type Issue } from '../errors.js';
import { missingKey, resolveModel } from '../llm/models.js';
import { priceOf } from '../llm/prices.js';

/**
 * What `orch validate` says of LLM agents: a model orch cannot place (error), a key that
 * is not set (warning: a `--replay` run needs none), and a cost budget on a model whose
 * price is unknown (error: the budget could never be enforced).
 */
export function llmIssues(project: Project, texts: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv = process.env): Issue[] {
  const issues: Issue[] = [];
  const sources = new Map<string, SourceFile>();
  const at = (origin: Origin, key: string, severity: Issue['severity'], code: ErrorCode, message: string, hint: string): void => {
    const display = displayPath(origin.file, project.dir);
    let source = sources.get(display);
    const text = texts.get(display);
    if (!source && text !== undefined) {
      const parsed = parseSource(text, origin.file, display);
      if (parsed.ok) sources.set(display, (source = parsed.source));
    }
    const span = source?.locate([...origin.path, key]);
    issues.push({ severity, code, message, hint, file: display, line: span?.line, column: span?.column, path: [...origin.path, key].join('.') });
  };
  for (const agent of project.agents.values()) {
    if (agent.model === undefined) continue;
    let model;
    try {
      model = resolveModel(project, agent.role, env);
    } catch (err) {
      if (!isOrchError(err)) throw err;
      at(agent.origin, 'model', 'error', err.code, err.message, err.hint ?? 'use a `claude-*`, `gpt-*` or `ollama/<name>` model, or declare it under `models:`');
      continue;
    }
    const variable = missingKey(model, env);
    if (variable) {
      at(agent.origin, 'model', 'warning', 'ORCH_LLM_KEY_MISSING', `agent \`${agent.role}\` uses ${agent.model}, which needs ${variable}, and it is not set`, `export ${variable}=... before \`orch run\`, or run from a recording with --replay <dir>`);
    }
    if (priceOf(model)) continue;
    const priced = (budget: BudgetDef | undefined) => budget?.maxCostUsd !== undefined;
    const steps = [...project.workflows.values()].flatMap((w) => w.steps).filter((s) => s.agent === agent.role && priced(s.budget));
    const where: Origin | undefined = priced(agent.budget) ? agent.origin : steps[0]?.origin;
    if (where || priced(project.team?.budget)) {
      at(where ?? agent.origin, where ? 'budget' : 'model', 'error', 'ORCH_PRICE_UNKNOWN', `a max_cost_usd budget applies to agent \`${agent.role}\`, but the price of ${agent.model} is unknown`, 'declare the model under `models:` with `price: { input_per_mtok, output_per_mtok }`, or budget tokens with `max_tokens`');
    }
  }
  return issues;
}
