import { stat } from 'node:fs/promises';
import path from 'node:path';
import { OrchError } from '../../errors.js';

/**
 * Where a report flag (`--report`, `--report-html`) writes, checked before the run starts: a folder there would only be
 * found once the run is over. Missing parent folders are made when it is written.
 */
export async function reportTarget(given: string, flag: string, what: string, example: string): Promise<string> {
  const file = path.resolve(process.cwd(), given);
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new OrchError('ORCH_USAGE', `${flag} ${given} is a folder; it names ${what} to write`, {
      hint: `give a file name, e.g. ${flag} ${path.join(given, example)}`,
    });
  }
  return file;
}
