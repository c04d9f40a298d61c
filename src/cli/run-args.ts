/** Global options that take a value (the next token), and `run`'s own. */
const GLOBAL_WITH_VALUE = new Set(['-C', '--dir', '--config', '--team']);
const RUN_WITH_VALUE = new Set(['--input', '--task', '--approve', '--report']);

/**
 * Everything after `orch run <name>` belongs to that tool or workflow: its parameter
 * flags may share a name with a global flag (`--version`, `--config`, `--json`), and an
 * unknown flag must be refused rather than silently dropped. A `--` after the name keeps
 * commander from parsing those tokens; the run command parses them itself, knowing the
 * tool or workflow.
 */
export function protectRunArgs(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  let i = 0;
  const skip = (withValue: Set<string>): void => {
    while (i < args.length) {
      const token = args[i] ?? '';
      if (token === '--' || !token.startsWith('-')) return;
      // Short flags may be bundled (`-qC dir`): the last one may take the value.
      const bundledC = /^-[A-Za-z]+C$/.test(token);
      i += withValue.has(token) || bundledC ? 2 : 1;
    }
  };
  skip(GLOBAL_WITH_VALUE);
  if (args[i] !== 'run') return [...argv];
  i++;
  skip(new Set([...GLOBAL_WITH_VALUE, ...RUN_WITH_VALUE]));
  if (i >= args.length || args[i] === '--') return [...argv];
  const cut = 2 + i + 1;
  return [...argv.slice(0, cut), '--', ...argv.slice(cut).filter((token, n) => !(n === 0 && token === '--'))];
}
