import { findCycle } from '../../util/cycle.js';
import { under } from '../locate.js';
import type { Rule } from './rule.js';
import { stepIds } from './steps.js';

/** A workflow's `needs` leave some order to run its steps in. */
export const workflowCycle: Rule = {
  name: 'workflow-cycle',
  crossFile: false,
  workflow({ sink }, workflow) {
    // Duplicate ids are reported on their own; any cycle through them would be an echo.
    if (stepIds(workflow).size !== workflow.steps.length) return;
    const cycle = findCycle(new Map(workflow.steps.map((s) => [s.id, s.needs])));
    const first = cycle && workflow.steps.find((s) => s.id === cycle[0]);
    if (!cycle || !first) return;
    sink.error('ORCH_CYCLE', under(first.origin, 'needs'), `steps of \`${workflow.name}\` form a cycle: ${cycle.join(' → ')}`, {
      hint: 'remove one of these `needs` so the steps can run in some order',
    });
  },
};
