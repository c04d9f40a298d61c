import { Command, Option } from 'commander';
import type { ParamDef, ToolDef } from '../config/model.js';
import { OrchError } from '../errors.js';
import { formatJsonProblem, parseJsonText } from '../util/json-text.js';

/**
 * A tool's parameters as command-line flags: `agent_type` becomes `--agent-type`, and
 * each value is coerced by the parameter's type (`--count 10` → 10, `--dry-run` → true,
 * `--tag a --tag b` → ["a", "b"], `--task '{"k": 1}'` → an object). A value that does
 * not fit its type is passed on unchanged, so input validation names the parameter.
 */
export function paramFlags(tool: Pick<ToolDef, 'description' | 'params'>, usage: string): { command: Command; read: () => Record<string, unknown> } {
  const command = new Command(usage)
    .description(tool.description)
    .helpOption('-h, --help', 'list the parameters')
    .exitOverride()
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  const byAttribute = new Map<string, ParamDef>();
  for (const param of tool.params) {
    for (const option of paramOptions(param)) {
      byAttribute.set(option.attributeName(), param);
      command.addOption(option);
    }
  }
  const read = (): Record<string, unknown> => {
    const input: Record<string, unknown> = {};
    for (const [attribute, value] of Object.entries(command.opts())) {
      const param = byAttribute.get(attribute);
      if (param && value !== undefined) input[param.name] = value;
    }
    return input;
  };
  return { command, read };
}

/** `--agent_type=x` and `--agent-type x` both name the parameter `agent_type`. */
export function normaliseFlagTokens(tokens: string[]): string[] {
  return tokens.map((token) => {
    if (!token.startsWith('--')) return token;
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    return name.replace(/_/g, '-') + (eq === -1 ? '' : token.slice(eq));
  });
}

function flagName(param: ParamDef): string {
  return param.name.replace(/_/g, '-');
}

function paramOptions(param: ParamDef): Option[] {
  const flag = `--${flagName(param)}`;
  const about = describeParam(param);
  switch (param.type) {
    case 'boolean':
      return [
        new Option(`${flag} [bool]`, about).argParser((raw: string) => coerce(param, raw)),
        new Option(`--no-${flagName(param)}`, `set ${param.name} to false`).hideHelp(),
      ];
    case 'array':
      return [
        new Option(`${flag} <value...>`, `${about}; repeat the flag or give a JSON array`).argParser(
          (raw: string, previous: unknown) => {
            const value = coerce(param, raw);
            const list = Array.isArray(previous) ? previous : [];
            return Array.isArray(value) ? [...list, ...value] : [...list, value];
          },
        ),
      ];
    default:
      return [new Option(`${flag} <${param.type === 'object' ? 'json' : param.type}>`, about).argParser((raw: string) => coerce(param, raw))];
  }
}

function describeParam(param: ParamDef): string {
  const notes = [param.type, param.required ? 'required' : undefined];
  if (param.default !== undefined) notes.push(`default: ${JSON.stringify(param.default)}`);
  const choices = param.schema.enum;
  if (Array.isArray(choices)) notes.push(`one of: ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
  const text = param.description ? `${param.description} ` : '';
  return `${text}(${notes.filter(Boolean).join(', ')})`;
}

/** A flag's text as a value of the parameter's type. */
export function coerce(param: { name: string; type: string; schema?: Record<string, unknown> }, raw: string): unknown {
  switch (param.type) {
    case 'number':
    case 'integer': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
    }
    case 'boolean': {
      const word = raw.toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(word)) return true;
      if (['false', 'no', '0', 'off'].includes(word)) return false;
      return raw;
    }
    case 'null':
      return raw === 'null' ? null : raw;
    case 'object':
      return parseJson(param.name, raw);
    case 'array': {
      if (raw.trimStart().startsWith('[')) return parseJson(param.name, raw);
      const items = param.schema?.items;
      const itemType = items !== null && typeof items === 'object' && 'type' in items ? String(items.type) : 'string';
      return coerce({ name: param.name, type: itemType }, raw);
    }
    default:
      return raw;
  }
}

/** A flag's JSON value; text that is not JSON is an input error saying where (column) and what. */
function parseJson(name: string, raw: string): unknown {
  const parsed = parseJsonText(raw);
  if (parsed.ok) return parsed.value;
  throw new OrchError('ORCH_INPUT', formatJsonProblem(`--${name.replace(/_/g, '-')}`, raw, parsed.problem), {
    hint: parsed.problem.hint ?? `quote it for the shell: --${name.replace(/_/g, '-')} '{"key": "value"}'`,
  });
}
