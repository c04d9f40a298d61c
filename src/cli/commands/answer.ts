import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { decide } from './decide.js';

/** `orch answer <run> <step> <text>`: a person's answer to the question a step's agent asked (`ask_human`). */
export async function run(globals: GlobalOptions, runId: string, step: string, text: string, _flags?: unknown, _command?: unknown, io: Io = processIo): Promise<number> {
  return decide('approved', globals, runId, step, undefined, io, text);
}
