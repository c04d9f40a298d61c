import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { OrchError } from '../errors.js';
import { isRunning } from '../process/identity.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ensureStateFolder, errnoOf, stateReadError, stateWriteError } from '../util/fs-errors.js';
import { withLock } from '../state/lock.js';
import { emptyRegistry, type Registry } from './types.js';

/**
 * The agent registry on disk, shared by every orch process of a project. Reads see a
 * complete file (writes go to a temp file, are fsync'd, then renamed over it) and every
 * change is a read-modify-write under one lock, so concurrent `orch` runs never lose
 * each other's updates.
 */
export class AgentStore {
  readonly file: string;
  private readonly lockFile: string;

  constructor(private readonly stateDir: string) {
    this.file = path.join(stateDir, 'agents', 'registry.json');
    this.lockFile = `${this.file}.lock`;
  }

  /** The registry as it is now, with leases of processes that died released. */
  async read(): Promise<Registry> {
    const registry = await this.load();
    reclaim(registry);
    return registry;
  }

  /** Applies `change` to the current registry and saves it atomically; returns its result. */
  async update<T>(change: (registry: Registry) => T): Promise<T> {
    await ensureStateFolder(path.dirname(this.file), this.stateDir);
    return withLock(this.lockFile, async () => {
      const registry = await this.load();
      reclaim(registry);
      const result = change(registry);
      await this.save(registry);
      return result;
    });
  }

  private load(): Promise<Registry> {
    return loadRegistry(this.file);
  }

  private async save(registry: Registry): Promise<void> {
    try {
      await writeFileAtomic(this.file, `${JSON.stringify(registry, null, 2)}\n`);
    } catch (err) {
      throw stateWriteError(err, this.file, this.stateDir);
    }
  }
}

/**
 * The desired instance count of each agent type's pool, as `orch scale` (or a pool's
 * first use, at its declared size) persisted it in `<stateDir>/agents/registry.json`;
 * empty when nothing is persisted. Takes no lock: the registry is replaced atomically,
 * so a read sees one complete version.
 */
export async function poolSizes(stateDir: string): Promise<Map<string, number>> {
  const registry = await loadRegistry(new AgentStore(stateDir).file);
  return new Map(Object.values(registry.pools).map((pool) => [pool.type, pool.desired]));
}

const owner = z.looseObject({ pid: z.number(), startTime: z.string() });

/** The registry's shape, version 1, checked whenever it is read: it is rewritten from what is read. */
const registrySchema = z.looseObject({
  version: z.literal(1),
  pools: z.record(
    z.string(),
    z.looseObject({
      type: z.string(),
      desired: z.number().int().min(0),
      nextId: z.number().int().min(0),
      instances: z.array(
        z.looseObject({
          id: z.string(),
          type: z.string(),
          status: z.enum(['available', 'busy', 'unhealthy']),
          currentTask: z.string().nullable(),
          owner: owner.nullable(),
          tasksCompleted: z.number(),
          failureCount: z.number(),
          totalFailures: z.number(),
          lastActive: z.string().nullable(),
          createdAt: z.string(),
        }),
      ),
    }),
  ),
  queue: z.array(z.looseObject({ id: z.string(), agentType: z.string(), owner, queuedAt: z.string() })),
});

/**
 * The registry on disk; empty when there is none yet. A file this orch cannot read as its
 * registry (not JSON, another version, another shape) is refused and left as it is, never
 * treated as empty and overwritten: it may be a newer orch's, or worth repairing.
 */
async function loadRegistry(file: string): Promise<Registry> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return emptyRegistry();
    throw stateReadError(err, file);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw corrupt(file, 'it is not JSON');
  }
  const version = typeof data === 'object' && data !== null && 'version' in data ? data.version : undefined;
  if (version !== 1) throw corrupt(file, version === undefined ? 'it has no `version`' : `its version is ${JSON.stringify(version)}, not 1`);
  const parsed = registrySchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(file, `\`${issue?.path.join('.') ?? ''}\`: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function corrupt(file: string, why: string): OrchError {
  return new OrchError('ORCH_CORRUPT_STATE', `${file} is not an agent registry this orch can read: ${why}`, {
    hint: 'orch leaves it untouched; move it away to start from the declared pool sizes, or use the orch that wrote it',
  });
}

/**
 * A lease belongs to a process; when that process is gone (crashed, killed) its
 * instances are free again and its queued tasks will never be picked up.
 */
function reclaim(registry: Registry): void {
  for (const pool of Object.values(registry.pools)) {
    for (const agent of pool.instances) {
      if (agent.status === 'busy' && (agent.owner === null || !isRunning(agent.owner))) {
        agent.status = 'available';
        agent.owner = null;
        agent.currentTask = null;
      }
    }
    // Instances kept only because they were busy when the pool was scaled down.
    const surplus = pool.instances.length - pool.desired;
    if (surplus > 0) {
      const idle = pool.instances.filter((a) => a.status !== 'busy').slice(0, surplus).map((a) => a.id);
      pool.instances = pool.instances.filter((a) => !idle.includes(a.id));
    }
  }
  registry.queue = registry.queue.filter((q) => isRunning(q.owner));
}
