import { isOrchError } from '../../errors.js';
import { parseExpression, type Expr } from '../../lang/expressions.js';
import { suggestOr } from '../../util/suggest.js';
import { under } from '../locate.js';
import type { StepDef, WorkflowDef } from '../model.js';
import type { Rule } from './rule.js';
import { stepIds } from './steps.js';

const EXPRESSION = /\$\{\{\s*(.*?)\s*\}\}/g;

/** Every `(text, key path)` of a step where expressions may stand: `if:` and all of `with:`. */
function expressionTexts(step: StepDef): [string, (string | number)[]][] {
  const texts: [string, (string | number)[]][] = [];
  if (step.if !== undefined) {
    // `if:` may be a bare expression as well as `${{ ... }}`.
    texts.push([/\$\{\{/.test(step.if) ? step.if : `\${{ ${step.if} }}`, ['if']]);
  }
  const walk = (value: unknown, sub: (string | number)[]): void => {
    if (typeof value === 'string') texts.push([value, sub]);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...sub, i]));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...sub, k]);
  };
  walk(step.with, ['with']);
  return texts;
}

function paths(expr: Expr, out: { root: string; first?: string | number }[] = []): typeof out {
  switch (expr.kind) {
    case 'literal':
      return out;
    case 'path':
      out.push({ root: expr.root, first: expr.segments[0] });
      return out;
    case 'not':
      return paths(expr.operand, out);
    case 'binary':
      paths(expr.left, out);
      return paths(expr.right, out);
    default: {
      const never: never = expr;
      return never;
    }
  }
}

/** The steps a step runs after: its needs, their needs, and so on. */
function upstreamOf(step: StepDef, workflow: WorkflowDef): Set<string> {
  const byId = new Map(workflow.steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const queue = [...step.needs];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(byId.get(id)?.needs ?? []));
  }
  return seen;
}

/**
 * Expressions parse; `inputs.x` names a declared input; `steps.x` names a step this one
 * runs after — otherwise its output might not exist yet when this step runs.
 */
export const stepExpressions: Rule = {
  name: 'step-expressions',
  crossFile: false,
  step({ sink }, step, workflow) {
    const ids = stepIds(workflow);
    const inputs = new Set(workflow.inputs.map((i) => i.name));
    let upstream: Set<string> | undefined;
    for (const [text, sub] of expressionTexts(step)) {
      const at = under(step.origin, ...sub);
      // What is left once every closed expression is taken out: a `${{` there never closes
      // (on its line), and would reach the tool as text.
      if (text.replace(EXPRESSION, '').includes('${{')) {
        sink.error('ORCH_EXPRESSION', at, '`${{` is not closed with `}}`', {
          hint: 'close the expression on the same line: ${{ inputs.name }}',
        });
      }
      for (const match of text.matchAll(EXPRESSION)) {
        let expr: Expr;
        try {
          expr = parseExpression(match[1] ?? '');
        } catch (err) {
          if (!isOrchError(err)) throw err;
          sink.error('ORCH_EXPRESSION', at, err.message, { hint: err.hint });
          continue;
        }
        for (const { root, first } of paths(expr)) {
          const name = String(first ?? '');
          if (root === 'inputs') {
            if (!inputs.has(name)) {
              sink.error('ORCH_UNKNOWN_INPUT', at, `\`inputs.${name}\` is not an input of \`${workflow.name}\``, {
                hint: suggestOr(name, [...inputs], "declare it under the workflow's `inputs`"),
              });
            }
          } else if (root === 'steps') {
            if (!ids.has(name)) {
              sink.error('ORCH_UNKNOWN_STEP', at, `\`steps.${name}\` is not a step of \`${workflow.name}\``, {
                hint: suggestOr(name, [...ids], `steps: ${[...ids].join(', ')}`),
              });
              continue;
            }
            upstream ??= upstreamOf(step, workflow);
            if (!upstream.has(name)) {
              const message = `step \`${step.id}\` reads \`steps.${name}\` but does not run after it, so its output may not exist yet`;
              sink.error('ORCH_STEP_NOT_UPSTREAM', at, message, { hint: `add \`${name}\` to the \`needs\` of \`${step.id}\`` });
            }
          } else {
            sink.error('ORCH_EXPRESSION', at, `\`${root}\` is not something expressions can read`, {
              hint: 'expressions read `inputs.<name>` and `steps.<id>.output`',
            });
          }
        }
      }
    }
  },
};
