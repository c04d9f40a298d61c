import { z } from 'zod';
import type { RunEvent } from './events.js';

/**
 * The shape of every journal event orch writes, checked as a journal is read: a line that
 * parses as JSON but lacks a field its type needs (a `step_started` without `step`) is
 * corruption, not a step named `undefined`. Objects are loose: a field a later orch adds
 * does not make an older one refuse the journal.
 */
const usage = z.looseObject({ input_tokens: z.number(), output_tokens: z.number(), cost_usd: z.number().optional() });
const toolCall = z.looseObject({ call_id: z.string(), tool: z.string(), input: z.record(z.string(), z.unknown()) });
const when = z.enum(['before', 'after']);
const decision = z.enum(['approved', 'rejected']);
const at = z.string();

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.looseObject({ type: z.literal(type), at, ...shape });

const schemas = [
  event('run_started', {
    run_id: z.string(),
    workflow: z.string(),
    inputs: z.record(z.string(), z.unknown()),
    dir: z.string(),
    pid: z.number(),
  }),
  event('run_resumed', { pid: z.number() }),
  event('step_started', { step: z.string(), attempt: z.number(), agent: z.string().optional(), agent_id: z.string().optional() }),
  event('step_succeeded', { step: z.string(), output: z.unknown(), duration_ms: z.number() }),
  event('step_failed', {
    step: z.string(),
    error: z.string(),
    attempt: z.number(),
    duration_ms: z.number(),
    final: z.boolean(),
    code: z.string().optional(),
  }),
  event('step_skipped', { step: z.string(), reason: z.string(), blocked: z.boolean() }),
  event('gate_waiting', { step: z.string(), gate: z.string(), when, tool_call: toolCall.optional() }),
  event('gate_decided', {
    step: z.string(),
    decision,
    by: z.string(),
    method: z.enum(['prompt', 'flag', 'command', 'client']),
    when,
    reason: z.string().optional(),
    call_id: z.string().optional(),
  }),
  event('model_turn', {
    step: z.string(),
    turn: z.number(),
    model: z.string(),
    request_digest: z.string(),
    text: z.string(),
    tool_calls: z.array(toolCall),
    usage,
    duration_ms: z.number(),
  }),
  event('tool_call_started', {
    step: z.string(),
    turn: z.number(),
    call_id: z.string(),
    tool: z.string(),
    input: z.record(z.string(), z.unknown()),
  }),
  event('tool_call_finished', {
    step: z.string(),
    turn: z.number(),
    call_id: z.string(),
    tool: z.string(),
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: z.string().optional(),
    refused: z.boolean().optional(),
    duration_ms: z.number(),
  }),
  event('run_paused', { waiting: z.array(z.string()) }),
  event('run_interrupted', { signal: z.string() }),
  event('run_finished', { status: z.enum(['succeeded', 'failed']) }),
] as const;

const byType = new Map<string, z.ZodType>(schemas.map((s) => [s.shape.type.value, s]));

/** The schemas cover exactly RunEvent's types: adding an event without its schema does not compile. */
type Known = z.infer<(typeof schemas)[number]>['type'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const covered: Same<Known, RunEvent['type']> = true;
void covered;

/**
 * Why a parsed journal line is not an event orch wrote, or undefined when it is one. An
 * event of a type this orch does not know passes: a later orch may have written it, and
 * the fold and `orch logs` pass over it.
 */
export function eventProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'it is not a JSON object';
  const type = 'type' in value ? value.type : undefined;
  if (typeof type !== 'string') return 'it has no `type`';
  if (!('at' in value) || typeof value.at !== 'string') return 'it has no `at` time';
  const result = byType.get(type)?.safeParse(value);
  if (!result || result.success) return undefined;
  const issue = result.error.issues[0];
  return `its \`${type}\` event has a bad \`${issue?.path.join('.') || '(event)'}\`: ${issue?.message ?? 'invalid'}`;
}
