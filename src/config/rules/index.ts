import type { IssueSink } from '../locate.js';
import type { Project } from '../model.js';
import { declaredTools } from '../tools.js';
import { agentHandoffs, agentRemote, agentTools } from './agents.js';
import { stepExpressions } from './expressions.js';
import type { Rule } from './rule.js';
import { stepAction, stepAgent, stepArguments, stepNeeds } from './steps.js';
import { toolPlaceholders, toolServer } from './tools.js';
import { serveExpose } from './serve.js';
import { workflowCycle } from './workflows.js';

/** The cross-file rules, in the order their issues appear for one tool, agent or step. */
export const rules: readonly Rule[] = [
  toolServer,
  toolPlaceholders,
  agentTools,
  agentHandoffs,
  agentRemote,
  stepAgent,
  stepAction,
  stepNeeds,
  stepExpressions,
  stepArguments,
  workflowCycle,
  serveExpose,
];

/**
 * Runs the rules over a project whose files passed their schemas. With `crossFile: false`
 * (another file failed its schema) only the rules one file can answer run: what it says
 * about tools, servers or agents declared elsewhere is not known yet.
 */
export function checkRules(project: Project, sink: IssueSink, options: { crossFile: boolean } = { crossFile: true }): void {
  const active = rules.filter((rule) => options.crossFile || !rule.crossFile);
  const ctx = { project, sink };
  // Built-in tools are right by construction; the rules check what the files say.
  for (const tool of declaredTools(project.tools)) for (const rule of active) rule.tool?.(ctx, tool);
  for (const agent of project.agents.values()) for (const rule of active) rule.agent?.(ctx, agent);
  for (const workflow of project.workflows.values()) {
    for (const step of workflow.steps) for (const rule of active) rule.step?.(ctx, step, workflow);
    for (const rule of active) rule.workflow?.(ctx, workflow);
  }
  for (const rule of active) rule.project?.(ctx);
}
