import type { IssueSink } from '../locate.js';
import type { AgentDef, Project, StepDef, ToolDef, WorkflowDef } from '../model.js';

export interface RuleContext {
  project: Project;
  sink: IssueSink;
}

/**
 * One named check of the normalised project. The runner walks the project once, in the
 * order the files declare things, and hands each rule the parts it looks at: every tool,
 * every agent, each step of a workflow and then the workflow itself. So the issues come
 * out in reading order whichever rules found them, and a new rule is one entry in
 * `rules` (./index.ts) beside the file that defines it.
 */
export interface Rule {
  readonly name: string;
  /**
   * The rule reads what other files declare (servers, tools, agents), so it runs only
   * when every file passed its schema; otherwise it would call things unknown that the
   * failed file declares.
   */
  readonly crossFile: boolean;
  tool?(ctx: RuleContext, tool: ToolDef): void;
  agent?(ctx: RuleContext, agent: AgentDef): void;
  step?(ctx: RuleContext, step: StepDef, workflow: WorkflowDef): void;
  /** Runs after the workflow's steps. */
  workflow?(ctx: RuleContext, workflow: WorkflowDef): void;
  /** Runs once, after everything else: what the project says as a whole (gantz.yaml's `serve:`). */
  project?(ctx: RuleContext): void;
}
