import path from 'node:path';
import { CommanderError } from 'commander';
import type { CassetteSpec } from '../llm/cassette.js';
import type { ParamDef, WorkflowDef } from '../config/model.js';
import { OrchError } from '../errors.js';
import { normaliseFlagTokens, paramFlags } from '../tools/param-flags.js';
import type { GlobalOptions, Io } from './context.js';
import { flagEntries, GLOBAL_FLAGS, longOf, namesOf, optionOf, RUN_FLAGS, type FlagSpec, type RunFlags } from './flags.js';

export interface RunTarget {
  kind: 'tool' | 'workflow';
  name: string;
  description: string;
  params: ParamDef[];
}

/** What commander parsed before the name: `orch run`'s flags, and its `-h`. */
export type FlagsBeforeName = RunFlags & { help?: boolean };

export interface ParsedRun {
  /** Values of the target's own flags, by parameter (or input) name. */
  values: Record<string, unknown>;
  flags: RunFlags;
  globals: GlobalOptions;
  /** `--help` was shown; nothing else is to be done. */
  helped: boolean;
}

/** A workflow's inputs as parameters, so they get flags like a tool's (`--service payments`). */
export function workflowTarget(workflow: WorkflowDef): RunTarget {
  return {
    kind: 'workflow',
    name: workflow.name,
    description: workflow.description ?? `workflow ${workflow.name}: ${workflow.steps.map((s) => s.id).join(' → ')}`,
    params: workflow.inputs.map((i) => ({
      name: i.name,
      type: i.type,
      description: i.description,
      required: i.required,
      default: i.default,
      schema: { type: i.type },
    })),
  };
}

/**
 * Parses the tokens after `orch run <name>`. The target's own flags come first: a
 * parameter named like a global flag (`--json`, `--quiet`, `--version`) is the
 * parameter's. Then `orch run`'s flags and the global output flags. Anything else is an
 * error with a suggestion, never silently ignored.
 */
export function parseRunTokens(target: RunTarget, tokens: string[], before: FlagsBeforeName, globals: GlobalOptions, io: Io): ParsedRun {
  const { command, read } = paramFlags(target, `orch run ${target.name}`);
  const taken = new Set(command.options.map((o) => o.long));
  /** Whether a flag is orch's here: no parameter of the target took its name. */
  const own = (spec: FlagSpec): boolean => !taken.has(longOf(spec));
  for (const [, spec] of flagEntries(RUN_FLAGS)) {
    if (own(spec) && (target.kind === 'workflow' || !spec.workflowOnly)) command.addOption(optionOf(spec));
  }
  for (const [, spec] of flagEntries(GLOBAL_FLAGS)) if (!spec.project && own(spec)) command.addOption(optionOf(spec));
  command
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => undefined })
    .addHelpText('after', target.params.length > 0 ? `\nOr give the whole input as JSON: --input '{...}' or --input @file.json` : '');

  try {
    command.parse(normaliseFlagTokens(tokens), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')) {
      return { values: {}, flags: before, globals, helped: true };
    }
    if (err instanceof CommanderError) {
      throw new OrchError('ORCH_USAGE', err.message.replace(/^error: /, ''), {
        hint: `\`orch run ${target.name} --help\` lists the flags`,
      });
    }
    throw err;
  }
  if (before.help) {
    command.outputHelp();
    return { values: {}, flags: before, globals, helped: true };
  }
  const o = command.opts<RunFlags & Partial<Pick<GlobalOptions, 'json' | 'quiet' | 'verbose' | 'color'>>>();
  /** A value given after the name, when the flag there was orch's and not a parameter's. */
  const after = <K extends keyof typeof o>(key: K, spec: FlagSpec): (typeof o)[K] | undefined => (own(spec) ? o[key] : undefined);
  return {
    values: read(),
    flags: {
      input: after('input', RUN_FLAGS.input) ?? before.input,
      task: after('task', RUN_FLAGS.task) ?? before.task,
      approve: [...(before.approve ?? []), ...(after('approve', RUN_FLAGS.approve) ?? [])],
      approveAll: before.approveAll === true || after('approveAll', RUN_FLAGS.approveAll) === true,
      dryRun: before.dryRun === true || after('dryRun', RUN_FLAGS.dryRun) === true,
      report: after('report', RUN_FLAGS.report) ?? before.report,
      reportHtml: after('reportHtml', RUN_FLAGS.reportHtml) ?? before.reportHtml,
      record: after('record', RUN_FLAGS.record) ?? before.record,
      replay: after('replay', RUN_FLAGS.replay) ?? before.replay,
    },
    globals: {
      ...globals,
      json: globals.json || after('json', GLOBAL_FLAGS.json) === true,
      quiet: globals.quiet || after('quiet', GLOBAL_FLAGS.quiet) === true,
      verbose: globals.verbose || after('verbose', GLOBAL_FLAGS.verbose) === true,
      color: globals.color && after('color', GLOBAL_FLAGS.color) !== false,
    },
    helped: false,
  };
}

/**
 * `-C`/`--dir`, `--config` and `--team` choose the project, which must be known before
 * the target's own flags can be: after the name they are still orch's. (A parameter
 * with one of these names is given with `--input`.)
 */
export function takeProjectFlags(tokens: readonly string[]): { tokens: string[]; dir?: string; config?: string; team?: string; otel?: string } {
  const rest: string[] = [];
  const found: { dir?: string; config?: string; team?: string; otel?: string } = {};
  const names = new Map<string, keyof typeof found>();
  for (const [key, spec] of flagEntries(GLOBAL_FLAGS)) {
    if (spec.project && (key === 'dir' || key === 'config' || key === 'team' || key === 'otel')) for (const name of namesOf(spec)) names.set(name, key);
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const eq = token.indexOf('=');
    const flag = eq === -1 ? token : token.slice(0, eq);
    const key = names.get(flag);
    // Only long flags take `--flag=value`; `-C=dir` is not orch's spelling.
    if (key === undefined || (eq !== -1 && !flag.startsWith('--'))) {
      rest.push(token);
      continue;
    }
    if (eq !== -1) found[key] = token.slice(eq + 1);
    else found[key] = tokens[++i];
  }
  return { tokens: rest, ...found };
}

/**
 * `--record` and `--replay` as the session (or an orchestration tool) takes them, a relative
 * folder in the project directory as `--input @file` is; both at once make no sense.
 */
export function cassetteOf(flags: Pick<RunFlags, 'record' | 'replay'>, projectDir: string): CassetteSpec | undefined {
  if (flags.record !== undefined && flags.replay !== undefined) {
    throw new OrchError('ORCH_USAGE', '--record and --replay cannot be used together', { hint: 'record once with --record <dir>, then run with --replay <dir>' });
  }
  if (flags.replay !== undefined) return { replay: path.resolve(projectDir, flags.replay) };
  if (flags.record !== undefined) return { record: path.resolve(projectDir, flags.record) };
  return undefined;
}
