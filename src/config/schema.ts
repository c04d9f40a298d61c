import type { ErrorObject } from 'ajv';
import type { ErrorCode } from '../error-codes.js';
import type { Issue } from '../errors.js';
import type { FileKind } from './schema-ajv.js';
import * as validators from './schema-validators.js';
import type { KeyPath, SourceFile } from './source-types.js';
import { formatKeyPath, suggest } from '../util/suggest.js';

export type { FileKind } from './schema-ajv.js';

/** A schema issue and the key path it stands at (which tells a server's own problems apart). */
export interface SchemaFinding {
  issue: Issue;
  keyPath: KeyPath;
}

/**
 * Validates a parsed file against its schema and maps every ajv error to an issue with
 * `file:line:col`, the key path and a hint. In `.mcp.json`, which other MCP clients share,
 * unknown keys are warnings rather than errors.
 */
export function validateSchema(kind: FileKind, source: SourceFile): SchemaFinding[] {
  const validate = validators[kind];
  if (validate(source.data)) return [];
  const seen = new Set<string>();
  const findings: SchemaFinding[] = [];
  for (const error of validate.errors ?? []) {
    // `if` failures only say which branch applied; the branch's own errors follow, as the
    // failing name of a `propertyNames` failure does.
    if (error.keyword === 'if' || error.keyword === 'allOf' || error.keyword === 'propertyNames') continue;
    const finding = toFinding(error, source, kind);
    const key = `${finding.issue.line}:${finding.issue.column}:${finding.issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(finding);
  }
  return findings;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
};

function toFinding(error: ErrorObject, source: SourceFile, kind: FileKind): SchemaFinding {
  const keyPath = pointerToPath(error.instancePath);
  const parentSchema = (error.parentSchema ?? {}) as { errorMessage?: string; properties?: Record<string, unknown> };
  let message: string;
  let hint: string | undefined;
  let at = keyPath;
  let onKey = false;
  let severity: Issue['severity'] = 'error';
  let code: ErrorCode = 'ORCH_SCHEMA';

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      at = [...keyPath, key];
      onKey = true;
      const known = Object.keys(parentSchema.properties ?? {}).filter((k) => k !== '$schema');
      message = `unknown key \`${key}\``;
      const guess = suggest(key, known);
      hint = guess ? `did you mean \`${guess}\`?` : known.length > 0 ? `known keys here: ${known.join(', ')}` : undefined;
      if (kind === 'mcp') {
        severity = 'warning';
        code = 'ORCH_UNKNOWN_KEY';
        message += ' (ignored)';
      }
      break;
    }
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      message = `missing required key \`${missing}\``;
      onKey = keyPath.length > 0;
      break;
    }
    case 'type': {
      const expected = String((error.params as { type: string }).type)
        .split(',')
        .map((t) => TYPE_NAMES[t] ?? t)
        .join(' or ');
      message = `must be ${expected}, found ${describe(error.data)}`;
      break;
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      message = `must be one of: ${allowed.map(String).join(', ')}; found ${describe(error.data)}`;
      const guess = typeof error.data === 'string' ? suggest(error.data, allowed.map(String)) : undefined;
      if (guess) hint = `did you mean \`${guess}\`?`;
      break;
    }
    case 'pattern':
    case 'format': {
      if (error.propertyName !== undefined) {
        at = [...keyPath, error.propertyName];
        onKey = true;
        message = `\`${error.propertyName}\`: ${parentSchema.errorMessage ?? `must match ${String((error.params as { pattern?: string }).pattern)}`}`;
      } else {
        message = parentSchema.errorMessage ?? `must match ${String((error.params as { pattern?: string }).pattern)}`;
      }
      break;
    }
    default:
      message = error.message ?? `fails the \`${error.keyword}\` rule`;
  }

  const span = source.locate(at, { key: onKey });
  const issue: Issue = {
    severity,
    code,
    message: `${formatKeyPath(keyPath) || '(top level)'} ${message}`,
    file: source.display,
    line: span.line,
    column: span.column,
    endLine: span.endLine,
    endColumn: span.endColumn,
    path: formatKeyPath(at),
    hint,
  };
  return { issue, keyPath: at };
}
