import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ToolDef } from '../config/model.js';
import { OrchError } from '../errors.js';
import { checkInputDepth } from '../util/json-depth.js';
import { plainCopy } from '../util/plain-copy.js';

// Defaults fill in omitted parameters; formats are annotations here (ajv-formats is not a
// dependency), and a parameter schema may carry keys ajv does not know, so not strict.
const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: false, validateFormats: false, logger: false });
const compiled = new WeakMap<ToolDef, ValidateFunction>();

/**
 * Checks a tool's input against its schema before any handler runs and returns it with
 * defaults applied (the caller's object is not changed). A missing, mistyped or unknown
 * parameter is an ORCH_INPUT usage error (exit 2) naming every offending parameter.
 */
export function validateInput(tool: ToolDef, input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw inputError(tool, [`the input must be an object of parameters, not ${describe(input)}`]);
  }
  checkInputDepth(input, `the input of ${tool.name}`);
  let validate = compiled.get(tool);
  if (!validate) {
    validate = ajv.compile(tool.inputSchema);
    compiled.set(tool, validate);
  }
  const params: Record<string, unknown> = plainCopy(input as Record<string, unknown>);
  if (!validate(params)) throw inputError(tool, (validate.errors ?? []).map(problem));
  return params;
}

function inputError(tool: ToolDef, problems: string[]): OrchError {
  const unique = [...new Set(problems)];
  return new OrchError('ORCH_INPUT', `invalid input for ${tool.name}: ${unique.join('; ')}`, {
    hint: `\`orch run ${tool.name} --help\` lists its parameters`,
  });
}

/** One ajv error in the words of parameters: which one, and what is wrong with it. */
function problem(err: ErrorObject): string {
  const at = paramPath(err.instancePath);
  const inside = (name: string) => (at ? `${at}.${name}` : name);
  const params: Record<string, unknown> = err.params;
  switch (err.keyword) {
    case 'required':
      return `missing required parameter \`${inside(String(params.missingProperty))}\``;
    case 'additionalProperties':
      return `unknown parameter \`${inside(String(params.additionalProperty))}\``;
    case 'type':
      return `parameter \`${at}\` must be ${String(params.type)}, got ${describe(err.data)}`;
    case 'enum': {
      const allowed: unknown[] = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      return `parameter \`${at}\` must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    default:
      return at ? `parameter \`${at}\` ${err.message ?? 'is invalid'}` : `the input ${err.message ?? 'is invalid'}`;
  }
}

/** `/tags/0/name` → `tags[0].name`. */
function paramPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
