/**
import '../orchestration/register.js';
 * Entry point of a child-process worker (`isolation: process`). It exits when the
 * parent disconnects — once its own MCP servers are stopped — so a parent that dies
 * never leaves it behind.
 */
import { hostWorker } from '../engine/worker-host.js';
import { tracesEndpoint } from '../util/tracing.js';

// The run's traces reach this process through the environment it was forked with; its spans join the run's trace by each task's carrier.
if (tracesEndpoint()) await (await import('./tracing-setup.js')).startCliTracing(undefined, process.stderr);

// The audit log's `exit` hook writes any lines still batched; what spans are left are sent first, bounded.
void hostWorker(process)
  .then(async () => (await import('../util/tracing.js')).stopTracing())
  .finally(() => process.exit(0));
