import { CommanderError, Option } from 'commander';
import type { ParamDef, WorkflowDef } from '../config/model.js';
import { OrchError } from '../errors.js';
import { normaliseFlagTokens, paramFlags } from '../tools/param-flags.js';
import type { GlobalOptions, Io } from './context.js';

/** What `orch run` itself takes, besides a tool's or workflow's own flags. */
export interface RunFlags {
  input?: string;
  task?: string;
  help?: boolean;
  approve?: string[];
  approveAll?: boolean;
  dryRun?: boolean;
  report?: string;
}

export interface RunTarget {
  kind: 'tool' | 'workflow';
  name: string;
  description: string;
  params: ParamDef[];
}

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
    params: workflow.inputs.map((i) => ({ name: i.name, type: i.type, description: i.description, required: i.required, default: i.default, schema: { type: i.type } })),
  };
}

/**
 * Parses the tokens after `orch run <name>`. The target's own flags come first: a
 * parameter named like a global flag (`--json`, `--quiet`, `--version`) is the
 * parameter's. Then `orch run`'s flags and the global output flags. Anything else is an
 * error with a suggestion, never silently ignored.
 */
export function parseRunTokens(target: RunTarget, tokens: string[], before: RunFlags, globals: GlobalOptions, io: Io): ParsedRun {
  const { command, read } = paramFlags(target, `orch run ${target.name}`);
  const taken = new Set(command.options.map((o) => o.long));
  const add = (option: Option): void => {
    if (!taken.has(option.long)) command.addOption(option);
  };
  add(new Option('--input <json>', `the whole input as a JSON object, or @file.json`));
  add(new Option('--task <json>', target.kind === 'tool' ? 'the whole input (for a tool without a `task` parameter)' : 'the same as --input'));
  if (target.kind === 'workflow') {
    add(new Option('--approve <step>', "approve this step's gate up front (repeatable)").argParser((v: string, prev: string[] = []) => [...prev, v]));
    add(new Option('--approve-all', 'approve every gate up front'));
    add(new Option('--dry-run', 'print the plan and its gates; run nothing'));
    add(new Option('--report <file>', 'write a JUnit XML report (one testcase per step)'));
  }
  add(new Option('--json', 'print one JSON document on stdout'));
  add(new Option('-q, --quiet', 'print only errors'));
  add(new Option('-v, --verbose', 'print more detail'));
  add(new Option('--no-color', 'disable colours'));
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
  const own = (long: string): boolean => !taken.has(long);
  const o = command.opts<{ input?: string; task?: string; approve?: string[]; approveAll?: boolean; dryRun?: boolean; report?: string; json?: boolean; quiet?: boolean; verbose?: boolean; color?: boolean }>();
  return {
    values: read(),
    flags: {
      input: (own('--input') ? o.input : undefined) ?? before.input,
      task: (own('--task') ? o.task : undefined) ?? before.task,
      approve: [...(before.approve ?? []), ...(own('--approve') ? (o.approve ?? []) : [])],
      approveAll: before.approveAll === true || (own('--approve-all') && o.approveAll === true),
      dryRun: before.dryRun === true || (own('--dry-run') && o.dryRun === true),
      report: (own('--report') ? o.report : undefined) ?? before.report,
    },
    globals: {
      ...globals,
      json: globals.json || (own('--json') && o.json === true),
      quiet: globals.quiet || (own('--quiet') && o.quiet === true),
      verbose: globals.verbose || (own('--verbose') && o.verbose === true),
      color: globals.color && !(own('--no-color') && o.color === false),
    },
    helped: false,
  };
}

/**
 * `-C`/`--dir`, `--config` and `--team` choose the project, which must be known before
 * the target's own flags can be: after the name they are still orch's. (A parameter
 * with one of these names is given with `--input`.)
 */
export function takeProjectFlags(tokens: readonly string[]): { tokens: string[]; dir?: string; config?: string; team?: string } {
  const rest: string[] = [];
  const found: { dir?: string; config?: string; team?: string } = {};
  const names: Record<string, 'dir' | 'config' | 'team'> = { '-C': 'dir', '--dir': 'dir', '--config': 'config', '--team': 'team' };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const eq = token.indexOf('=');
    const flag = eq === -1 ? token : token.slice(0, eq);
    const key = names[flag];
    if (key === undefined || (eq !== -1 && flag === '-C')) {
      rest.push(token);
      continue;
    }
    if (eq !== -1) found[key] = token.slice(eq + 1);
    else found[key] = tokens[++i];
  }
  return { tokens: rest, ...found };
}
