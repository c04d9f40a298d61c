import { suggestOr } from '../../util/suggest.js';
import { under } from '../locate.js';
import type { JsonType, WorkflowDef } from '../model.js';
import type { Rule } from './rule.js';
import { mayUse } from './tool-names.js';

const idsByWorkflow = new WeakMap<WorkflowDef, Set<string>>();

/** The ids of a workflow's steps, computed once per workflow however many steps ask. */
export function stepIds(workflow: WorkflowDef): Set<string> {
  let ids = idsByWorkflow.get(workflow);
  if (!ids) {
    ids = new Set(workflow.steps.map((s) => s.id));
    idsByWorkflow.set(workflow, ids);
  }
  return ids;
}

/** A step names a declared agent. */
export const stepAgent: Rule = {
  name: 'step-agent',
  crossFile: false,
  step({ project, sink }, step) {
    if (project.agents.has(step.agent)) return;
    const roles = [...project.agents.keys()];
    sink.error('ORCH_UNKNOWN_AGENT', under(step.origin, 'agent'), `step \`${step.id}\` names unknown agent \`${step.agent}\``, {
      hint: suggestOr(step.agent, roles, roles.length ? `agents: ${roles.join(', ')}` : 'declare it under `agents` with this `role`'),
    });
  },
};

/** A step's action is a tool its agent may use, or the agent has a model to carry it out. */
export const stepAction: Rule = {
  name: 'step-action',
  crossFile: true,
  step({ project, sink }, step, workflow) {
    const agent = project.agents.get(step.agent);
    // A remote A2A agent is sent whatever the step asks.
    if (!agent || agent.a2a || sink.brokenTools.has(step.action)) return;
    if (mayUse(agent, project, step.action)) {
      if (!agent.tools && !project.tools.has(step.action) && !agent.model) {
        const message = `action \`${step.action}\` is not declared in gantz.yaml; only an MCP server could provide it`;
        sink.unverified(step.action, under(step.origin, 'action'), message);
      }
      return;
    }
    if (agent.model) return;
    const usable = agent.tools ?? [...project.tools.keys()];
    const fix = `add \`${step.action}\` to the agent's \`tools\` (and declare it), or give the agent a \`model\``;
    const what = `\`${step.action}\` is not a tool agent \`${agent.role}\` may use, and the agent has no \`model\``;
    sink.error('ORCH_UNRESOLVED_ACTION', under(step.origin, 'action'), `step \`${step.id}\` of \`${workflow.name}\`: ${what}`, {
      hint: suggestOr(step.action, usable, fix),
    });
  },
};

/** Each of a step's `needs` is a step of the same workflow. */
export const stepNeeds: Rule = {
  name: 'step-needs',
  crossFile: false,
  step({ sink }, step, workflow) {
    const ids = stepIds(workflow);
    step.needs.forEach((need, i) => {
      if (ids.has(need)) return;
      // A `needs: x` string has no index; locate() then stops at `needs` itself.
      sink.error('ORCH_UNKNOWN_STEP', under(step.origin, 'needs', i), `step \`${step.id}\` needs unknown step \`${need}\``, {
        hint: suggestOr(need, [...ids], `steps of ${workflow.name}: ${[...ids].join(', ')}`),
      });
    });
  },
};

const TYPE_OF: Record<JsonType, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  array: (v) => Array.isArray(v),
  null: (v) => v === null,
};

/** A step calling a declared tool passes only its parameters, every required one, of the right type. */
export const stepArguments: Rule = {
  name: 'step-arguments',
  crossFile: true,
  step({ project, sink }, step) {
    const agent = project.agents.get(step.agent);
    const tool = project.tools.get(step.action);
    if (!agent || !tool || (agent.tools !== undefined && !agent.tools.includes(step.action))) return;
    const params = new Map(tool.params.map((p) => [p.name, p]));
    const listed = params.size ? `its parameters: ${[...params.keys()].join(', ')}` : 'it takes no parameters';
    for (const [key, value] of Object.entries(step.with)) {
      const param = params.get(key);
      if (!param) {
        sink.error('ORCH_UNKNOWN_PARAM', under(step.origin, 'with', key), `tool \`${tool.name}\` has no parameter \`${key}\``, {
          key: true,
          hint: suggestOr(key, [...params.keys()], listed),
        });
        continue;
      }
      const templated = typeof value === 'string' && value.includes('${{');
      if (!templated && !TYPE_OF[param.type](value)) {
        const article = param.type === 'integer' || param.type === 'object' || param.type === 'array' ? 'an' : 'a';
        const message = `\`${key}\` of tool \`${tool.name}\` must be ${article} ${param.type}`;
        sink.error('ORCH_PARAM_TYPE', under(step.origin, 'with', key), message, { hint: `found ${JSON.stringify(value)}` });
      }
    }
    for (const param of tool.params) {
      if (param.required && param.default === undefined && !(param.name in step.with)) {
        const at = step.with && Object.keys(step.with).length ? under(step.origin, 'with') : under(step.origin, 'action');
        const message = `step \`${step.id}\` does not give \`${param.name}\`, which tool \`${tool.name}\` requires`;
        sink.error('ORCH_MISSING_PARAM', at, message, { hint: `add \`${param.name}: ...\` under \`with\`` });
      }
    }
  },
};
