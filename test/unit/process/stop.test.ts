import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { stopChild } from '../../../src/process/stop.js';
import { ProcessWatch } from '../mcp/helpers.js';

/** Says what it received on stdout, ignores SIGTERM and stdin EOF: only SIGKILL ends it. */
const IGNORES_TERM_AND_EOF = `
process.on('SIGTERM', () => process.stdout.write('got SIGTERM\\n'));
process.stdin.on('end', () => process.stdout.write('got EOF\\n')).resume();
setInterval(() => {}, 60000);
process.stdout.write('ready\\n');`;
/** Exits by itself once its stdin ends, as a well-behaved stdio server does. */
const EXITS_ON_EOF = `
process.stdin.on('end', () => process.exit(0)).resume();
process.stdout.write('ready\\n');`;
/** Ignores stdin EOF, but not SIGTERM. */
const IGNORES_EOF = `
process.stdin.resume();
setInterval(() => {}, 60000);
process.stdout.write('ready\\n');`;

/**
 * Starts `script` with piped stdio and waits until it says it is ready. `output` is all it
 * wrote, once its stdout has closed (so nothing it wrote before dying is still in the pipe).
 */
async function start(script: string): Promise<{ child: ChildProcess; output: () => Promise<string> }> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  const closed = once(child, 'close');
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  for (let i = 0; i < 500 && !text.includes('ready\n') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
  expect(text).toContain('ready\n');
  return { child, output: () => closed.then(() => text) };
}

describe('stopChild', () => {
  it('ends the input of a child that exits on EOF, and signals nothing', async () => {
    const watch = new ProcessWatch();
    const { child } = await start(EXITS_ON_EOF);
    watch.snapshot();
    await stopChild(child, { graceMs: 10_000, termMs: 10_000 });
    expect({ code: child.exitCode, signal: child.signalCode }).toEqual({ code: 0, signal: null });
    expect(watch.count).toBe(1);
    expect(watch.leftovers()).toEqual([]);
  });

  it('SIGTERMs a child that ignores EOF once the grace period is over', async () => {
    const { child } = await start(IGNORES_EOF);
    await stopChild(child, { graceMs: 50, termMs: 10_000 });
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('SIGKILLs a child that ignores EOF and SIGTERM, after trying both, and resolves once it has exited', async () => {
    const watch = new ProcessWatch();
    const { child, output } = await start(IGNORES_TERM_AND_EOF);
    watch.snapshot();
    // Long enough for the child to note each stage under load; the order is what is checked.
    await stopChild(child, { graceMs: 300, termMs: 1000 });
    expect(child.signalCode).toBe('SIGKILL');
    expect(await output()).toBe('ready\ngot EOF\ngot SIGTERM\n');
    expect(watch.leftovers()).toEqual([]);
  });

  it('uses the given endInput instead of ending stdin', async () => {
    const { child, output } = await start(IGNORES_TERM_AND_EOF);
    let asked = 0;
    await stopChild(child, { endInput: () => (asked += 1), graceMs: 50, termMs: 50 });
    expect(asked).toBe(1);
    expect(await output()).not.toContain('got EOF');
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('disconnects the IPC channel of a forked child, which a worker takes as its cue to exit', async () => {
    const worker = "process.on('disconnect', () => process.exit(0)); process.send('ready'); setInterval(() => {}, 60000)";
    const child = spawn(process.execPath, ['-e', worker], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    await once(child, 'message');
    await stopChild(child, { graceMs: 10_000, termMs: 10_000 });
    expect({ code: child.exitCode, signal: child.signalCode }).toEqual({ code: 0, signal: null });
  });

  it('is safe on a child that has already exited, or never started', async () => {
    const { child } = await start(EXITS_ON_EOF);
    child.stdin?.end();
    await once(child, 'exit');
    await stopChild(child);
    expect(child.exitCode).toBe(0);
    const missing = spawn('/nonexistent/orch-test-binary', [], { stdio: 'ignore' });
    missing.on('error', () => {}); // ENOENT, expected
    await stopChild(missing);
    await stopChild(missing);
  });
});
