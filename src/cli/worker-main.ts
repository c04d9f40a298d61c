/**
import '../orchestration/register.js';
 * Entry point of a child-process worker (`isolation: process`). It exits when the
 * parent disconnects — once its own MCP servers are stopped — so a parent that dies
 * never leaves it behind.
 */
import { hostWorker } from '../engine/worker-host.js';

// The audit log's `exit` hook writes any lines still batched.
void hostWorker(process).finally(() => process.exit(0));
