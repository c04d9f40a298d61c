import { flagEntries, GLOBAL_FLAGS, namesOf, RUN_FLAGS, takesValue, type FlagTable } from './flags.js';

/** The names (`-C`, `--dir`) of a table's flags that take the next token as their value. */
function withValue<T>(table: FlagTable<T>): string[] {
  return flagEntries(table).flatMap(([, spec]) => (takesValue(spec) ? namesOf(spec) : []));
}

const GLOBAL_WITH_VALUE = new Set(withValue(GLOBAL_FLAGS));
const RUN_WITH_VALUE = new Set([...GLOBAL_WITH_VALUE, ...withValue(RUN_FLAGS)]);
/** Letters of the short global flags that take a value (`C`), which may end a bundle: `-qC dir`. */
const SHORT_WITH_VALUE = new Set([...GLOBAL_WITH_VALUE].filter((n) => /^-[A-Za-z]$/.test(n)).map((n) => n.slice(1)));

function bundleWithValue(token: string): boolean {
  return /^-[A-Za-z]{2,}$/.test(token) && SHORT_WITH_VALUE.has(token.slice(-1));
}

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
  const skip = (withValue: ReadonlySet<string>): void => {
    while (i < args.length) {
      const token = args[i] ?? '';
      if (token === '--' || !token.startsWith('-')) return;
      // Short flags may be bundled (`-qC dir`): the last one may take the value.
      i += withValue.has(token) || bundleWithValue(token) ? 2 : 1;
    }
  };
  skip(GLOBAL_WITH_VALUE);
  if (args[i] !== 'run') return [...argv];
  i++;
  skip(RUN_WITH_VALUE);
  if (i >= args.length || args[i] === '--') return [...argv];
  const cut = 2 + i + 1;
  return [...argv.slice(0, cut), '--', ...argv.slice(cut).filter((token, n) => !(n === 0 && token === '--'))];
}
