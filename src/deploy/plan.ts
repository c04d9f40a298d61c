import { createHash } from 'node:crypto';
import path from 'node:path';
import { agentTypes } from '../agents/agent-types.js';
import { poolSizes } from '../agents/store.js';
import { engineTarget } from '../engine/redis/target.js';
import type { Project } from '../config/model.js';
import { environmentNames, type EnvName } from './env-names.js';
import { projectFiles, type ProjectFile } from './project-files.js';

/** Where `orch deploy` can put a project. */
export const PLATFORMS = ['kubernetes', 'compose'] as const;
export type Platform = (typeof PLATFORMS)[number];

export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}

/** The queue engine's address inside the deployment: the `redis` service the manifests declare. */
export const DEPLOYED_ENGINE_URL = 'redis://redis:6379/0';
// Spelled in parts: a whole quoted `ORCH_*` string in src is an error code (error-codes.test.ts).
/** The variable that names the queue engine a worker uses. */
export const ENGINE_VARIABLE = ['ORCH', 'ENGINE'].join('_');
/** The variable that names orch's state directory. */
export const STATE_DIR_VARIABLE = ['ORCH', 'STATE', 'DIR'].join('_');
/** Where the project's files stand in a worker's container. */
export const PROJECT_MOUNT = '/project';
/** A worker's state directory in its container: the project's files are mounted read-only. */
export const CONTAINER_STATE_DIR = '/var/lib/orch';
/** Redis as the queue engine needs it: jobs are never evicted, and every write is in the append-only file. */
export const REDIS_IMAGE = 'redis:7-alpine';
export const REDIS_COMMAND = ['redis-server', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];

/** One pool of workers: the agent type it runs, and how many of them. */
export interface WorkerPool {
  agentType: string;
  replicas: number;
  /** The Deployment's (or Compose service's) name, a DNS label. */
  name: string;
}

/** Everything the manifests are made of, whichever the platform. */
export interface DeployPlan {
  /** The project's name as a DNS label: names the ConfigMap, the Secret and the workers. */
  name: string;
  image: string;
  orchVersion: string;
  workers: WorkerPool[];
  env: EnvName[];
  files: ProjectFile[];
  /** Project files left out because they may hold secrets (`.env`, keys, `*secret*`), to tell the user. */
  withheld: string[];
  /** The global flags a worker needs to find the project's files (`--config`, `--team`), relative to the project. */
  projectFlags: string[];
  /** Whether a handler is Python: the image then needs python3. */
  python: boolean;
}

/**
 * A DNS-1123 label (lowercase letters, digits and `-`, at most `max` characters) for a
 * name. A name cut to fit, or one whose label another name shares (`unique` false), gets
 * a short hash of the whole name, so that names that differ only in what was dropped
 * stay apart.
 */
export function dnsLabel(name: string, max = 63, unique = true): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (cleaned !== '' && cleaned.length <= max && unique) return cleaned;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  const head = cleaned.slice(0, max - hash.length - 1).replace(/-+$/g, '');
  return head === '' ? `x-${hash}` : `${head}-${hash}`;
}

/** Labels for names, each its own: names whose labels would be equal get hashes. */
function distinctLabels(names: readonly string[]): string[] {
  const plain = names.map((n) => dnsLabel(n));
  return names.map((n, i) => dnsLabel(n, 63, plain.filter((p) => p === plain[i]).length === 1));
}

export interface PlanOptions {
  image?: string;
  orchVersion: string;
  stateDir: string;
  /** Folders whose files are not shipped: the output folder. */
  exclude: readonly string[];
  /** `--config` / `--team` as given, when the project's files have other names than the defaults. */
  config?: string;
  team?: string;
}

/**
 * What to deploy: one worker pool per agent type, as many replicas as the pool has
 * instances (the size `orch scale` stored, else the declared `count`), the project's
 * files, and the names of the variables it reads.
 */
export async function deployPlan(project: Project, options: PlanOptions): Promise<DeployPlan> {
  const name = dnsLabel(project.name ?? project.team?.name ?? path.basename(project.dir), 40);
  const stored = await poolSizes(options.stateDir);
  // On the queue engine, `orch scale` keeps the sizes there; one out of reach leaves the local ones.
  const target = engineTarget(project);
  if (target) {
    const { RedisEngine } = await import('../engine/redis/redis-engine.js');
    const scaled = await new RedisEngine({ project, target }).scaledSizes().catch(() => new Map<string, number>());
    for (const [type, n] of scaled) stored.set(type, n);
  }
  const types = [...agentTypes(project).values()];
  const labels = distinctLabels(types.map((type) => `${name}-${type.name}`));
  const workers = types.map((type, i) => ({ agentType: type.name, replicas: stored.get(type.name) ?? type.count, name: labels[i] ?? name }));
  const projectFlags = [
    ...(options.config !== undefined ? ['--config', options.config] : []),
    ...(options.team !== undefined ? ['--team', options.team] : []),
  ];
  const { files, withheld } = await projectFiles(project.dir, project.files, [options.stateDir, ...options.exclude]);
  return {
    name,
    image: options.image ?? `orch:${options.orchVersion}`,
    orchVersion: options.orchVersion,
    workers,
    env: await environmentNames(project),
    files,
    withheld,
    projectFlags,
    python: [...project.tools.values()].some((t) => t.handler.kind === 'module' && t.handler.file?.endsWith('.py') === true),
  };
}

/** The command a worker container runs, after the image's `orch` entry point. */
export function workerArgs(plan: DeployPlan, pool: WorkerPool): string[] {
  return [...plan.projectFlags, 'worker', '--agent-type', pool.agentType];
}

/** The Secret (Kubernetes) that holds the project's variables. */
export function secretName(plan: DeployPlan): string {
  return dnsLabel(`${plan.name}-env`);
}
