import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpServerDef } from '../../../src/config/model.js';
import type { Clock } from '../../../src/util/clock.js';
import { descendants, isRunning, type ProcessIdentity } from '../../../src/process/identity.js';
import type { SupervisionPolicy } from '../../../src/mcp/managed-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = path.join(root, 'test/fixtures/servers');
export const EVERYTHING = path.join(root, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const MEMORY = path.join(root, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
export const FILESYSTEM = path.join(root, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

/** A stdio server definition as the config loader would produce it. */
export function stdioServer(name: string, args: string[], extra: Partial<McpServerDef> = {}): McpServerDef {
  return {
    name,
    transport: 'stdio',
    command: process.execPath,
    args,
    env: {},
    headers: {},
    startupTimeoutMs: 10_000,
    origin: { file: '/project/gantz.yaml', path: ['mcpServers', name] },
    ...extra,
  };
}

export const fixture = (name: string, script: string, extra: Partial<McpServerDef> = {}) =>
  stdioServer(name, [path.join(FIXTURES, script)], extra);

export const everything = (name: string, extra: Partial<McpServerDef> = {}) => stdioServer(name, [EVERYTHING, 'stdio'], extra);

/** Short shutdown stages: the stubborn fixture needs the whole sequence on every test. */
export const FAST_POLICY: Partial<SupervisionPolicy> = {
  stop: { graceMs: 150, termMs: 150 },
  restart: { baseDelayMs: 1, maxDelayMs: 5, maxRestarts: 5 },
};

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-mcp-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Remembers every process the test process caused, so that after shutdown a test can
 * assert that none of them still runs, including those re-parented away from us.
 */
export class ProcessWatch {
  private readonly seen = new Map<number, ProcessIdentity>();

  snapshot(): ProcessIdentity[] {
    const now = descendants(process.pid);
    for (const p of now) this.seen.set(p.pid, p);
    return now;
  }

  add(id: ProcessIdentity): void {
    this.seen.set(id.pid, id);
  }

  /** The processes seen so far that still run, plus any new descendant. */
  leftovers(): ProcessIdentity[] {
    this.snapshot();
    return [...this.seen.values()].filter(isRunning);
  }

  get count(): number {
    return this.seen.size;
  }
}

/** A clock whose sleeps pass at once, so backoff and cooldown never wait for real. */
export class ManualClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += Math.max(ms, 0);
  }
}
