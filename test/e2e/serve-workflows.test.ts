import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { connectServe } from '../helpers/serve-client.js';
import { processesWith, until, workflowProject } from '../helpers/workflow-project.js';
import { survivors } from '../unit/tools/process-helpers.js';

let project: ReturnType<typeof workflowProject>;
afterEach(() => project?.cleanup());

const text = (result: Awaited<ReturnType<Client['callTool']>>): string =>
  (Array.isArray(result.content) ? result.content : []).map((b: { type: string; text?: string }) => b.text ?? '').join('');

describe('orch serve with workflows', () => {
  it('serves workflows as tools: runs them, pauses at gates, reports failures as errors', async () => {
    project = workflowProject();
    const { client, pid } = await connectServe(project.dir);
    try {
      const { tools } = await client.listTools();
      const conditional = tools.find((t) => t.name === 'conditional');
      expect(conditional?.inputSchema).toMatchObject({ type: 'object', properties: { deploy: { type: 'boolean', default: false } } });

      const ok = await client.callTool({ name: 'conditional', arguments: { deploy: true } });
      expect(ok.isError).toBe(false);
      expect(ok.structuredContent).toMatchObject({ workflow: 'conditional', status: 'succeeded', steps: [{ id: 'maybe', status: 'succeeded' }, { id: 'always', status: 'succeeded' }] });
      expect(project.log()).toEqual(['maybe', 'always']);

      const gated = await client.callTool({ name: 'gated', arguments: {} });
      expect(gated.isError).toBe(false);
      expect(gated.structuredContent).toMatchObject({ status: 'paused' });
      const runId = String((gated.structuredContent as { run_id: string }).run_id);
      expect(text(gated)).toContain(`approve ${runId} a`);

      const failing = await client.callTool({ name: 'failing', arguments: {} });
      expect(failing.isError).toBe(true);
      expect(text(failing)).toContain('boom');

      const bad = await client.callTool({ name: 'conditional', arguments: { deploy: 'yes' } });
      expect(bad.isError).toBe(true);
      expect(text(bad)).toContain('ORCH_INPUT');
    } finally {
      await client.close();
    }
    // The runs are ordinary runs: listed, and the paused one can be approved and resumed.
    const runs = JSON.parse(orch(['runs', '--json'], { cwd: project.dir }).stdout) as { workflow: string; status: string }[];
    expect(runs.map((r) => [r.workflow, r.status])).toEqual(expect.arrayContaining([['conditional', 'succeeded'], ['gated', 'paused'], ['failing', 'failed']]));
    expect(await survivors(typeof pid === 'number' ? [pid] : [])).toEqual([]);
  });
});

describe('orch serve ending while a workflow runs', () => {
  it('SIGTERM cancels the run, journals it interrupted and leaves no process or lock', async () => {
    project = workflowProject();
    const { client, pid } = await connectServe(project.dir);
    const call = client.callTool({ name: 'long', arguments: {} }).catch(() => undefined);
    await until(() => processesWith('123.456', project.dir).length > 0, 'the step to start');
    if (typeof pid === 'number') process.kill(pid, 'SIGTERM');
    await call;
    await until(() => typeof pid !== 'number' || processesWith(String(BIN)).every((p) => p !== pid), 'orch serve to exit');
    await client.close();
    const [runId = ''] = project.runIds();
    expect(project.journal(runId).at(-1)).toMatchObject({ type: 'run_interrupted', signal: 'SIGTERM' });
    expect(existsSync(path.join(project.dir, '.orch', 'runs', runId, 'lock'))).toBe(false);
    expect(processesWith('123.456', project.dir)).toEqual([]);
  });
});
