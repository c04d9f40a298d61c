import { Ajv } from 'ajv';
import type { InputDef, WorkflowDef } from '../config/model.js';
import { suggest } from '../util/suggest.js';
import { ExitCode, OrchError } from '../errors.js';
import { checkInputDepth } from '../util/json-depth.js';

const ajv = new Ajv({ allErrors: true, coerceTypes: false });

/**
 * A workflow's inputs from `--input`: defaults filled in, required ones present, types
 * checked, unknown names refused — before anything runs.
 */
export function resolveInputs(workflow: WorkflowDef, given: Record<string, unknown>): Record<string, unknown> {
  checkInputDepth(given, `the input of workflow \`${workflow.name}\``);
  const declared = new Map(workflow.inputs.map((i) => [i.name, i]));
  for (const name of Object.keys(given)) {
    if (declared.has(name)) continue;
    const guess = suggest(name, [...declared.keys()]);
    throw new OrchError('ORCH_INPUT', `workflow \`${workflow.name}\` has no input \`${name}\``, {
      hint: guess ? `did you mean \`${guess}\`?` : declared.size ? `its inputs: ${[...declared.keys()].join(', ')}` : 'it declares no inputs',
      exitCode: ExitCode.usage,
    });
  }
  const out: Record<string, unknown> = {};
  for (const input of workflow.inputs) {
    const value = input.name in given ? given[input.name] : input.default;
    if (value === undefined) {
      if (input.required) {
        throw new OrchError('ORCH_INPUT', `workflow \`${workflow.name}\` needs input \`${input.name}\``, {
          hint: `give it with --input '{"${input.name}": ...}'`,
          exitCode: ExitCode.usage,
        });
      }
      continue;
    }
    checkInputType(input, value);
    out[input.name] = value;
  }
  return out;
}

/** Refuses a value of the wrong type for an input. */
export function checkInputType(input: InputDef, value: unknown): void {
  if (ajv.validate({ type: input.type }, value)) return;
  throw new OrchError('ORCH_INPUT', `input \`${input.name}\` must be ${input.type === 'integer' ? 'an integer' : `a ${input.type}`}, got ${JSON.stringify(value)}`, {
    exitCode: ExitCode.usage,
  });
}
