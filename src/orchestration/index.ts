import type { HandlerFn } from '../tools/module.js';
import { aggregateResults } from './aggregate.js';
import { assignTask } from './assign.js';
import { handleFailure } from './handle-failure.js';
import { monitorAgents } from './monitor.js';
import { orchestrate } from './orchestrate.js';
import { scaleAgents } from './scale.js';

/** The built-in `orchestration` handler namespace: the orchestration seed's six tools. */
export const orchestrationHandlers: Record<string, HandlerFn> = {
  orchestrate,
  assign_task: assignTask,
  monitor_agents: monitorAgents,
  aggregate_results: aggregateResults,
  handle_failure: handleFailure,
  scale_agents: scaleAgents,
};
