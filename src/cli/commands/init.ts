import { cp, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ExitCode, OrchError } from '../../errors.js';
import { packagePath } from '../../util/package-root.js';
import { suggest } from '../../util/suggest.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';

interface InitFlags {
  template?: string;
  list?: boolean;
  force?: boolean;
}

/** Templates shipped with orch, beside the package root. */
export const TEMPLATE_DIR = packagePath('templates');

export interface TemplateInfo {
  name: string;
  description: string;
  /** What to run once the project exists, relative to it. */
  next: string[];
}

export async function listTemplates(): Promise<TemplateInfo[]> {
  const index = JSON.parse(await readFile(path.join(TEMPLATE_DIR, 'templates.json'), 'utf8')) as Record<
    string,
    { description: string; next?: string[] }
  >;
  return Object.entries(index).map(([name, t]) => ({ name, description: t.description, next: t.next ?? [] }));
}

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

export async function run(globals: GlobalOptions, target: string, flags: InitFlags, _command?: unknown, io: Io = processIo): Promise<number> {
  const templates = await listTemplates();
  if (flags.list) {
    if (globals.json) io.stdout.write(`${JSON.stringify(templates.map(({ name, description }) => ({ name, description })), null, 2)}\n`);
    else {
      const width = Math.max(...templates.map((t) => t.name.length));
      for (const t of templates) io.stdout.write(`${t.name.padEnd(width)}  ${t.description}\n`);
    }
    return ExitCode.ok;
  }
  const names = templates.map((t) => t.name);
  if (!flags.template) {
    throw new OrchError('ORCH_USAGE', 'choose a template with --template <name>', {
      hint: `templates: ${names.join(', ')} (orch init --list describes them)`,
    });
  }
  const template = templates.find((t) => t.name === flags.template);
  if (!template) {
    const wanted = flags.template;
    const guess = suggest(wanted, names) ?? names.find((n) => n.startsWith(wanted) || n.includes(wanted));
    throw new OrchError('ORCH_UNKNOWN_TEMPLATE', `there is no template \`${flags.template}\``, {
      hint: guess ? `did you mean \`${guess}\`?` : `templates: ${names.join(', ')}`,
    });
  }

  const dest = path.resolve(globals.dir, target);
  const source = path.join(TEMPLATE_DIR, template.name);
  const files = await filesUnder(source);
  if (existsSync(dest)) {
    if (!(await stat(dest)).isDirectory()) {
      throw new OrchError('ORCH_TARGET_NOT_DIR', `${target} exists and is not a directory`, { hint: 'choose another target directory' });
    }
    // Other files may stay (a .mcp.json, a README, a git checkout): only overwriting is refused.
    const clashes = files.filter((f) => existsSync(path.join(dest, f)));
    if (clashes.length > 0 && !flags.force) {
      const shown = clashes.slice(0, 5).join(', ') + (clashes.length > 5 ? `, … (${clashes.length} in all)` : '');
      throw new OrchError('ORCH_TARGET_NOT_EMPTY', `${target} already has ${shown}; nothing was written`, {
        hint: 'choose another directory, or add --force to write the template over files of the same names',
      });
    }
  }
  await mkdir(dest, { recursive: true });
  await cp(source, dest, { recursive: true, force: true, preserveTimestamps: false });

  const rel = path.relative(process.cwd(), dest) || '.';
  if (globals.json) {
    io.stdout.write(`${JSON.stringify({ template: template.name, dir: dest, files }, null, 2)}\n`);
  } else if (!globals.quiet) {
    io.stdout.write(`Created ${rel} from template ${template.name}:\n`);
    for (const f of files) io.stdout.write(`  ${f}\n`);
    const cd = rel === '.' ? [] : [`cd ${rel}`];
    io.stdout.write(`\nNext:\n${[...cd, ...template.next].map((l) => `  ${l}`).join('\n')}\n`);
  }
  return ExitCode.ok;
}
