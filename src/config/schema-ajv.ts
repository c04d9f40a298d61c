import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, _, type CodeKeywordDefinition, type Options } from 'ajv';
import { packagePath } from '../util/package-root.js';
import { durationProblem } from './limits.js';

export type FileKind = 'gantz' | 'team' | 'mcp';

/** The published schemas, beside the package root. */
const SCHEMA_DIR = packagePath('schemas');

const SCHEMA_FILES: Record<FileKind, string> = {
  gantz: 'gantz.schema.json',
  team: 'agent-team.schema.json',
  mcp: 'mcp.schema.json',
};

export const FILE_KINDS = Object.keys(SCHEMA_FILES) as FileKind[];

export function schemaId(kind: FileKind): string {
  return `https://orch.dev/schemas/v1/${SCHEMA_FILES[kind]}`;
}

/**
 * Durations must fit a timer, and timeouts must be more than zero (limits.ts). Written as
 * code that calls `durationProblem`, so that ajv's standalone output can call it too: the
 * module the build writes (scripts/compile-schemas.mjs) imports it under that name.
 */
const durationLimits: CodeKeywordDefinition = {
  keyword: 'durationLimits',
  schemaType: 'object',
  code(cxt) {
    const check = cxt.gen.scopeValue('func', { ref: durationProblem, code: _`durationProblem` });
    const problem = cxt.gen.const('problem', _`${check}(${cxt.data}, ${cxt.schemaValue})`);
    cxt.setParams({ problem }, true);
    cxt.fail(_`${problem} !== undefined`);
  },
  error: { message: ({ params }) => _`${params.problem}` },
};

/**
 * The one ajv set-up for the three file kinds' schemas, with orch's keywords: what the
 * CLI runs is this set-up compiled ahead of time (`code` is how the build asks for source).
 */
export function schemaAjv(code?: Options['code']): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strictTypes: false, strictTuples: false, ...(code && { code }) });
  // Annotation only: the message shown in place of ajv's for pattern and format failures.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  ajv.addKeyword(durationLimits);
  for (const file of Object.values(SCHEMA_FILES)) {
    ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8')) as object);
  }
  return ajv;
}
