import { ExitCode, OrchError } from '../../errors.js';
import type { GlobalOptions } from '../context.js';

export async function run(_globals: GlobalOptions, ...args: unknown[]): Promise<number> {
  const command = args[args.length - 1] as { name(): string } | undefined;
  throw new OrchError('ORCH_NOT_AVAILABLE', `\`orch ${command?.name() ?? ''}\` is not available in this version yet`, {
    hint: 'run `orch --help` to see what this version can do',
    exitCode: ExitCode.usage,
  });
}
