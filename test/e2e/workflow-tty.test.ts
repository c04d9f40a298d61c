import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { until, workflowProject } from '../helpers/workflow-project.js';

let project: ReturnType<typeof workflowProject>;
afterEach(() => project?.cleanup());

/**
 * Runs the built bin on a real pseudo-terminal (util-linux `script`), answering the gate
 * prompt once it appears, as a person at the terminal would.
 */
async function runOnTty(cwd: string, args: string[], reply: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...process.env, TERM: 'dumb', NO_COLOR: '1' } });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  await until(() => screen.includes('Approve? [y/N]'), 'the prompt');
  child.stdin.write(reply);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, screen };
}

describe('gates on a terminal', () => {
  it('y + Enter at the prompt approves and the run goes on', async () => {
    project = workflowProject();
    const { code, screen } = await runOnTty(project.dir, ['run', 'gated'], 'y\r');
    expect(code).toBe(0);
    expect(screen).toContain('Approval needed after step `a`');
    expect(project.log()).toEqual(['a', 'b']);
    const [runId = ''] = project.runIds();
    expect(project.journal(runId).find((e) => e.type === 'gate_decided')).toMatchObject({ decision: 'approved', method: 'prompt' });
  });

  it('a bare Enter rejects (the default is No) and the run fails', async () => {
    project = workflowProject();
    const { code } = await runOnTty(project.dir, ['run', 'guarded'], '\r');
    expect(code).toBe(1);
    expect(project.log()).toEqual(['a']);
    const [runId = ''] = project.runIds();
    expect(project.journal(runId).find((e) => e.type === 'gate_decided')).toMatchObject({ step: 'danger', decision: 'rejected', method: 'prompt', when: 'before' });
  });
});
