import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isRunning } from '../process/identity.js';
import { writeFileAtomic } from '../util/atomic-file.js';
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

  constructor(stateDir: string) {
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
    await mkdir(path.dirname(this.file), { recursive: true });
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
    await writeFileAtomic(this.file, `${JSON.stringify(registry, null, 2)}\n`);
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

async function loadRegistry(file: string): Promise<Registry> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
    throw err;
  }
  const parsed = JSON.parse(text) as Registry;
  return parsed.version === 1 ? parsed : emptyRegistry();
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
