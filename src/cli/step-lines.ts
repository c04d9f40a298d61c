import { readFileSync } from 'node:fs';
import type { WorkflowDef } from '../config/model.js';
import { parseSource } from '../config/source.js';

/** The line a step starts on in its file, for CI annotations; undefined when unknown. */
export function inspectStepLine(workflow: WorkflowDef, stepId: string): number | undefined {
  const step = workflow.steps.find((s) => s.id === stepId);
  if (!step) return undefined;
  try {
    const parsed = parseSource(readFileSync(step.origin.file, 'utf8'), step.origin.file);
    return parsed.ok ? parsed.source.locate(step.origin.path).line : undefined;
  } catch {
    return undefined;
  }
}
