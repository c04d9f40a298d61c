import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { StubReply, StubRequest } from './llm-stub.js';

const STUB = fileURLToPath(new URL('../fixtures/llm-stub-server.mjs', import.meta.url));

/** The stub provider in a process of its own, for tests that run the built bin against it. */
export interface StubProcess {
  process: ChildProcess;
  url: string;
  /** For ANTHROPIC_BASE_URL. */
  anthropicBase: string;
  /** The requests it has had so far, in order. */
  requests(): Promise<StubRequest[]>;
  stop(): void;
}

/** Starts the stub with `replies` scripted (written to `dir`), once it listens. */
export async function startStubProcess(dir: string, replies: (StubReply & { when?: string })[]): Promise<StubProcess> {
  const script = path.join(dir, 'stub-script.json');
  writeFileSync(script, JSON.stringify(replies));
  const child = spawn(process.execPath, [STUB, script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  const { url, anthropicBase } = JSON.parse(line) as { url: string; anthropicBase: string };
  return {
    process: child,
    url,
    anthropicBase,
    requests: async () => (await (await fetch(`${url}/_stub/requests`)).json()) as StubRequest[],
    stop: () => void child.kill('SIGTERM'),
  };
}
