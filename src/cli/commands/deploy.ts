import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { inspectProject, loadProject } from '../../config/load.js';
import { environmentVariablesOf, deployPlan, isPlatform, outputFiles, PLATFORMS, secretName, writeOutput, WRITTEN_MARK, type DeployPlan, type Platform } from '../../deploy/index.js';
import { ExitCode, OrchError } from '../../errors.js';
import { resolveStateDir } from '../../state/state-dir.js';
import { suggest } from '../../util/suggest.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';
import { packageVersion } from '../../util/package-root.js';

interface DeployFlags {
  platform?: string;
  out?: string;
  image?: string;
  force?: boolean;
}

/**
 * Placeholders for the variables the files reference but this shell has not set: the
 * manifests carry names only, so deploying needs none of the values.
 */
async function loadingEnv(globals: GlobalOptions): Promise<NodeJS.ProcessEnv> {
  const { files } = await inspectProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of await environmentVariablesOf(files, globals.dir)) if ((env[name] ?? '') === '') env[name] = 'unset-at-deploy';
  return env;
}

/** `orch deploy --platform kubernetes|compose [--out DIR] [--image IMG] [--force]`. */
export async function run(globals: GlobalOptions, flags: DeployFlags, _command?: unknown, io: Io = processIo): Promise<number> {
  const platform = platformOf(flags.platform);
  const env = await loadingEnv(globals);
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team, env });
  const outDir = flags.out === undefined ? path.join(project.dir, 'deploy', platform) : path.resolve(process.cwd(), flags.out);
  if (flags.image !== undefined && !/^[^\s]+$/.test(flags.image)) {
    throw new OrchError('ORCH_USAGE', `--image ${JSON.stringify(flags.image)} is not an image name`, { hint: 'e.g. --image registry.example.com/team/orch:0.1.0' });
  }
  const plan = await deployPlan(project, {
    image: flags.image,
    orchVersion: packageVersion,
    stateDir: resolveStateDir(project.dir),
    exclude: [outDir, ...(await deployFolders(project.dir))],
    config: globals.config,
    team: globals.team,
  });
  const written = await writeOutput(outDir, outputFiles(plan, platform, project.dir, outDir), flags.force === true);
  const commands = nextCommands(plan, platform, outDir);
  if (globals.json) {
    const document = {
      platform,
      out: outDir,
      image: plan.image,
      files: written,
      workers: plan.workers.map((w) => ({ agent_type: w.agentType, replicas: w.replicas, name: w.name })),
      env: plan.env,
      project_files: plan.files.map((f) => f.path),
      withheld: plan.withheld,
      commands,
    };
    io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else if (!globals.quiet) {
    io.stdout.write(summary(plan, platform, outDir, written, commands));
  }
  return ExitCode.ok;
}

/** The default output folders (`deploy/<platform>`) that hold files orch deploy wrote: never shipped as project files. */
async function deployFolders(dir: string): Promise<string[]> {
  const folders: string[] = [];
  for (const platform of PLATFORMS) {
    const folder = path.join(dir, 'deploy', platform);
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      const head = await readFile(path.join(folder, name), 'utf8').then((t) => t.slice(0, WRITTEN_MARK.length), () => '');
      if (head === WRITTEN_MARK) {
        folders.push(folder);
        break;
      }
    }
  }
  return folders;
}

function platformOf(given: string | undefined): Platform {
  if (given !== undefined && isPlatform(given)) return given;
  const guess = given === undefined ? undefined : suggest(given, PLATFORMS);
  throw new OrchError('ORCH_USAGE', given === undefined ? 'say where to deploy: --platform kubernetes or --platform compose' : `--platform ${given} is not one orch deploys to`, {
    hint: guess ? `did you mean \`--platform ${guess}\`? (choices: ${PLATFORMS.join(', ')})` : `choices: ${PLATFORMS.join(', ')}`,
  });
}

/** A path as the user would type it from here. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' ? '.' : rel.startsWith('..') ? file : rel;
}

function nextCommands(plan: DeployPlan, platform: Platform, outDir: string): string[] {
  const dir = shown(outDir);
  if (platform === 'compose') return [`docker compose -f ${path.join(dir, 'compose.yaml')} up -d --build`];
  const secret = plan.env.length > 0 ? [`kubectl create secret generic ${secretName(plan)} ${plan.env.map((v) => `--from-literal=${v.name}=...`).join(' ')}`] : [];
  return [`docker build -t ${plan.image} ${dir}`, ...secret, `kubectl apply -f ${dir}`];
}

function summary(plan: DeployPlan, platform: Platform, outDir: string, written: { file: string; replaced: boolean }[], commands: string[]): string {
  const lines = [`Wrote ${platform === 'kubernetes' ? 'Kubernetes manifests' : 'a Compose file'} for ${plan.name} to ${shown(outDir)}:`];
  for (const w of written) lines.push(`  ${path.basename(w.file)}${w.replaced ? '  (replaced the one orch deploy wrote before)' : ''}`);
  lines.push('', 'Workers (orch worker --agent-type T), one pool per agent type:');
  const width = Math.max(...plan.workers.map((w) => w.agentType.length));
  for (const w of plan.workers) lines.push(`  ${w.agentType.padEnd(width)}  ${w.replicas} ${w.replicas === 1 ? 'replica' : 'replicas'}`);
  lines.push(`Redis: ${platform === 'kubernetes' ? 'service `redis`' : 'service redis'}, append-only persistence, no eviction; ORCH_ENGINE=redis://redis:6379/0`);
  lines.push(`Project files: ${plan.files.length} ${platform === 'kubernetes' ? 'in a ConfigMap' : 'bind-mounted read-only'} at /project; image ${plan.image} (Dockerfile beside them)`);
  if (plan.withheld.length > 0) lines.push(`Left out, as they may hold secrets: ${plan.withheld.join(', ')}`);
  if (plan.env.length > 0) {
    const where = platform === 'kubernetes' ? `from Secret ${secretName(plan)}` : 'passed on from the environment of `docker compose`';
    lines.push(`Variables (names only, no values written; ${where}):`);
    for (const v of plan.env) lines.push(`  ${v.name}${v.required ? '' : '  (optional)'}`);
  }
  lines.push('', platform === 'kubernetes' ? 'Then:' : 'Then, with the variables set in this shell:', ...commands.map((c) => `  ${c}`));
  return `${lines.join('\n')}\n`;
}
