import type { ErrorObject } from 'ajv';
import { schemaAjv, schemaId, type FileKind } from './schema-ajv.js';

/** A validator of one file kind: true when the data fits, else false with `errors` set. */
export type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/*
 * Compiling the schemas took ajv longer than the rest of an `orch validate` (0.2–0.6 s of
 * every start-up). `npm run build` therefore replaces this module's output in dist/ with
 * ajv's standalone code for the same schemas and set-up (scripts/compile-schemas.mjs), which
 * has the same exports; run from the sources (vitest's unit tests), they compile here.
 */
const ajv = schemaAjv();
function compiled(kind: FileKind): Validate {
  const validate = ajv.getSchema(schemaId(kind));
  if (!validate) throw new Error(`schema ${schemaId(kind)} did not compile`);
  return validate;
}

export const gantz = compiled('gantz');
export const team = compiled('team');
export const mcp = compiled('mcp');
