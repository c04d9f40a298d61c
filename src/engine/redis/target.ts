import type { Project } from '../../config/model.js';
import { OrchError } from '../../errors.js';

/** A queue engine to schedule on: its Redis and the prefix of every key orch keeps there. */
export interface EngineTarget {
  url: string;
  /** The URL as it may be shown: its password, if any, masked. */
  shown: string;
  /** Ends with `:`; BullMQ's queues live under it without the colon. */
  prefix: string;
}

const SCHEMES = /^(redis|rediss|unix):\/\//;

/**
 * The engine a command schedules on: `--engine` (which the CLI puts in ORCH_ENGINE), else
 * ORCH_ENGINE, else agent-team.yaml's `engine:` / `state_management.connection`. `local`
 * (or nothing) is the embedded engine: undefined.
 */
export function engineTarget(project: Project, env: NodeJS.ProcessEnv = process.env): EngineTarget | undefined {
  const fromEnv = env.ORCH_ENGINE?.trim();
  const url = fromEnv !== undefined && fromEnv !== '' ? fromEnv : project.engine?.url;
  if (url === undefined || url === 'local') return undefined;
  if (!SCHEMES.test(url)) {
    throw new OrchError('ORCH_ENGINE_URL', `\`${maskPassword(url)}\` is not an engine URL`, {
      hint: 'use `redis://host:6379/0`, `rediss://host:6380/0` or `unix:///path/to/redis.sock`, or `local` for the embedded engine',
    });
  }
  let prefix = project.engine?.keyPrefix ?? 'orch:';
  if (!prefix.endsWith(':')) prefix += ':';
  if (project.engine?.isolation !== 'shared' && project.team) prefix += `${project.team.name}:`;
  return { url, shown: maskPassword(url), prefix };
}

/** ioredis's options for an engine URL (`unix:///run/redis.sock?db=1` included). */
export function redisOptions(url: string): { path?: string; host?: string; port?: number; db?: number; username?: string; password?: string; tls?: object } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OrchError('ORCH_ENGINE_URL', `\`${maskPassword(url)}\` is not a valid URL`, { hint: 'write it as `redis://host:6379/0`' });
  }
  const db = parsed.protocol === 'unix:' ? parsed.searchParams.get('db') : parsed.pathname.replace(/^\//, '');
  const auth = {
    ...(parsed.username !== '' && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password !== '' && { password: decodeURIComponent(parsed.password) }),
  };
  const dbIndex = db === null || db === '' ? undefined : Number(db);
  if (dbIndex !== undefined && !(Number.isInteger(dbIndex) && dbIndex >= 0)) {
    throw new OrchError('ORCH_ENGINE_URL', `\`${maskPassword(url)}\` names database \`${db}\`, which is not a number`, { hint: 'end the URL with `/0` (or another database index)' });
  }
  const common = { ...auth, ...(dbIndex !== undefined && { db: dbIndex }) };
  if (parsed.protocol === 'unix:') return { path: decodeURIComponent(parsed.pathname), ...common };
  return {
    host: parsed.hostname === '' ? '127.0.0.1' : parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...common,
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
  };
}

/** A URL with its password replaced by `***`, for messages. */
export function maskPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
