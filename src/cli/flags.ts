import { Option } from 'commander';
import type { GlobalOptions } from './context.js';

/**
 * One of orch's own flags, declared once. Commander's options and their help, and how
 * `orch run` tells orch's flags from a tool's own, all come from these tables.
 */
export interface FlagSpec {
  /** Commander's syntax: `-C, --dir <dir>`, `--approve <step>`, `--no-color`. */
  readonly flags: string;
  readonly help: string;
  /** May be given more than once; the values collect in a list. */
  readonly repeatable?: boolean;
  /** `orch run` takes it only for a workflow. */
  readonly workflowOnly?: boolean;
  /**
   * Chooses the project, which must be known before a tool's flags can be: after
   * `orch run <name>` it is still orch's, whatever the tool's parameters are called.
   */
  readonly project?: boolean;
}

/** A flag for each option, keyed by the option's name as commander spells it (`--dry-run` → `dryRun`). */
export type FlagTable<T> = { readonly [K in keyof T]-?: FlagSpec };

/** Every command's flags (DESIGN.md section 2). */
export const GLOBAL_FLAGS: FlagTable<GlobalOptions> = {
  dir: { flags: '-C, --dir <dir>', help: 'project directory (default: the current directory)', project: true },
  config: { flags: '--config <file>', help: 'tools file (default: gantz.yaml)', project: true },
  team: { flags: '--team <file>', help: 'team file (default: agent-team.yaml)', project: true },
  engine: { flags: '--engine <url>', help: 'schedule on this queue engine: redis://host:6379/0, or `local` (also: ORCH_ENGINE)', project: true },
  otel: {
    flags: '--otel <url>',
    help: 'send OpenTelemetry traces to this OTLP/HTTP collector (default: OTEL_EXPORTER_OTLP_ENDPOINT)',
    project: true,
  },
  json: { flags: '--json', help: 'print one JSON document on stdout and nothing else there' },
  quiet: { flags: '-q, --quiet', help: 'print only errors' },
  verbose: { flags: '-v, --verbose', help: 'print more detail' },
  color: { flags: '--no-color', help: 'disable colours (also: NO_COLOR)' },
};

/** What `orch run` itself takes, besides a tool's or workflow's own flags. */
export interface RunFlags {
  input?: string;
  task?: string;
  approve?: string[];
  approveAll?: boolean;
  dryRun?: boolean;
  report?: string;
  reportHtml?: string;
  record?: string;
  replay?: string;
}

export const RUN_FLAGS: FlagTable<RunFlags> = {
  input: { flags: '--input <json>', help: 'the whole input as a JSON object, or @file.json to read it from a file' },
  task: { flags: '--task <json>', help: 'the `task` parameter of a tool that has one; otherwise the same as --input' },
  approve: { flags: '--approve <step>', help: "approve this step's gate up front (repeatable)", repeatable: true, workflowOnly: true },
  approveAll: { flags: '--approve-all', help: 'approve every gate up front', workflowOnly: true },
  dryRun: { flags: '--dry-run', help: 'print the plan and its gates; run nothing', workflowOnly: true },
  report: { flags: '--report <file>', help: 'write a JUnit XML report (one testcase per step)', workflowOnly: true },
  reportHtml: {
    flags: '--report-html <file>',
    help: "at the end, write the run's HTML report (as `orch report <run> --html`); workflows and orchestration tools",
  },
  record: { flags: '--record <dir>', help: 'write every LLM provider exchange to this folder (keys redacted); workflows and orchestration tools' },
  replay: { flags: '--replay <dir>', help: 'answer LLM calls from a --record folder; no network, no key needed; workflows and orchestration tools' },
};

/** The flags `orch resume` shares with `orch run <workflow>`. */
export type WorkflowFlags = Pick<RunFlags, 'approve' | 'approveAll' | 'report' | 'reportHtml' | 'record' | 'replay'>;

/** A table's entries with their keys typed; `Object.entries` would widen each key to string. */
export function flagEntries<T>(table: FlagTable<T>): [keyof T, FlagSpec][] {
  const keys = Object.keys(table) as (keyof T)[]; // a FlagTable<T> has exactly the keys of T
  return keys.map((key) => [key, table[key]]);
}

/** The commander option of a flag; `help` replaces its own help text where a command words it differently. */
export function optionOf(spec: FlagSpec, help = spec.help): Option {
  const option = new Option(spec.flags, help);
  return spec.repeatable ? option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]) : option;
}

/** The names a flag is written with: `['-C', '--dir']`. */
export function namesOf(spec: FlagSpec): string[] {
  const option = new Option(spec.flags);
  return [option.short, option.long].filter((n): n is string => n !== undefined);
}

/** Whether the flag takes the next token as its value (`--input <json>`). */
export function takesValue(spec: FlagSpec): boolean {
  return new Option(spec.flags).required;
}

/** The long name of a flag (`--dry-run`), which a tool's parameter of the same name takes over. */
export function longOf(spec: FlagSpec): string {
  return new Option(spec.flags).long ?? spec.flags;
}

/** Whether a flag's value says it was given: a switch that is on, a value, a non-empty list. */
export function isGiven(value: string | boolean | string[] | undefined): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
}
