import path from 'node:path';
import { CONTAINER_STATE_DIR, DEPLOYED_ENGINE_URL, ENGINE_VARIABLE, PROJECT_MOUNT, STATE_DIR_VARIABLE, REDIS_COMMAND, REDIS_IMAGE, workerArgs, type DeployPlan } from './plan.js';

/** A Compose service name: letters, digits, `_`, `-` and `.` (Compose's own rule). */
function serviceName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/**
 * The Compose file of a project: Redis with its data on a named volume (AOF persistence,
 * no eviction), and one service per agent type running `orch worker` with the project
 * folder bind-mounted read-only. Variables are passed through from the environment of
 * `docker compose up` by name, never by value. `outDir`: where the file is written, so
 * the bind mount and the build context are relative to it.
 */
export function composeFile(plan: DeployPlan, projectDir: string, outDir: string): Record<string, unknown> {
  const rel = path.relative(outDir, projectDir).split(path.sep).join('/');
  const source = rel === '' ? '.' : rel.startsWith('.') ? rel : `./${rel}`;
  const services: Record<string, unknown> = {
    redis: {
      image: REDIS_IMAGE,
      command: REDIS_COMMAND,
      volumes: ['redis-data:/data'],
      healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '5s', timeout: '3s', retries: 5 },
      restart: 'unless-stopped',
    },
  };
  for (const pool of plan.workers) {
    const environment: Record<string, string | null> = { [ENGINE_VARIABLE]: DEPLOYED_ENGINE_URL, [STATE_DIR_VARIABLE]: CONTAINER_STATE_DIR };
    // No value: Compose passes the variable on from its own environment, and leaves it out when unset.
    for (const v of plan.env) environment[v.name] = null;
    services[serviceName(pool.name)] = {
      image: plan.image,
      build: { context: '.', dockerfile: 'Dockerfile' },
      command: workerArgs(plan, pool),
      working_dir: PROJECT_MOUNT,
      volumes: [`${source}:${PROJECT_MOUNT}:ro`],
      environment,
      depends_on: { redis: { condition: 'service_healthy' } },
      deploy: { replicas: pool.replicas },
      // `orch worker` drains on SIGTERM: it finishes its running jobs before it exits.
      stop_grace_period: '5m',
      restart: 'unless-stopped',
    };
  }
  return { services, volumes: { 'redis-data': {} } };
}
