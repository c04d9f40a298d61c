import '../../../src/orchestration/register.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load.js';
import type { Project } from '../../../src/config/model.js';
import { isOrchError, type OrchError } from '../../../src/errors.js';
import type { Logger } from '../../../src/tools/context.js';
import { invokeTool } from '../../../src/tools/invoke.js';
import { readPids, survivors } from './process-helpers.js';

/** Debian's python3 where it is installed (CI installs it), else the one on PATH. */
const DEBIAN_PYTHON = '/usr/bin/python3';
const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/python');

let project: Project;
let stateDir: string;
const previous = process.env.ORCH_PYTHON;
beforeAll(async () => {
  if (existsSync(DEBIAN_PYTHON)) process.env.ORCH_PYTHON = DEBIAN_PYTHON;
  project = (await loadProject({ dir: FIXTURE })).project;
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'orch-python-'));
});
afterAll(() => {
  if (previous === undefined) delete process.env.ORCH_PYTHON;
  else process.env.ORCH_PYTHON = previous;
  rmSync(stateDir, { recursive: true, force: true });
});

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level}: ${m}`);
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

async function failure(promise: Promise<unknown>): Promise<OrchError> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!isOrchError(err)) throw new Error(`expected an OrchError, got ${String(err)}`);
  return err;
}

describe('Python handlers', () => {
  it('call the function with the validated arguments as keyword arguments; what it prints is logged, not returned', async () => {
    const { logger, lines } = recorder();
    const result = await invokeTool(project, 'hello', { name: 'Ada', times: 2 }, { logger, stateDir });
    expect(result.value).toEqual({ greeting: 'hello Ada hello Ada', times: 2 });
    expect(lines).toEqual(['info: printed, not returned']);
    // A parameter left out gets the Python default.
    expect((await invokeTool(project, 'hello', { name: 'Bo' }, { stateDir })).value).toEqual({ greeting: 'hello Bo', times: 1 });
  });

  it('run async functions, with a context that logs and calls other tools', async () => {
    const { logger, lines } = recorder();
    expect((await invokeTool(project, 'ahello', { name: 'Cy' }, { logger, stateDir })).value).toBe('hi Cy from ahello');
    expect(lines).toEqual(['info: async hello']);
    expect((await invokeTool(project, 'chain', {}, { stateDir })).value).toEqual({
      echoed: 'one',
      failed: ['ToolCallError', 'ORCH_UNKNOWN_TOOL', 'no tool named `no_such_tool`'],
    });
    expect((await invokeTool(project, 'gather', {}, { stateDir })).value).toEqual(['a', 'b']);
  });

  it('give handlers written for the Gantz client its `MCPClient().execute_tool`', async () => {
    expect((await invokeTool(project, 'seed_style', {}, { stateDir })).value).toBe('through the gantz client');
  });

  it('override a built-in namespace, as the orchestration seed\'s handlers/orchestration.py does', async () => {
    const value = (await invokeTool(project, 'scale_agents', { agent_type: 'worker', count: 3 }, { stateDir })).value;
    expect(value).toEqual({ action: 'scale_up', agent_type: 'worker', new_count: 3, by: 'python' });
  });

  it('fail the tool with the exception, the traceback going to the debug log only', async () => {
    const { logger, lines } = recorder();
    const err = await failure(invokeTool(project, 'boom', {}, { logger, stateDir }));
    expect(err).toMatchObject({ code: 'ORCH_TOOL_FAILED', exitCode: 1, message: 'boom failed: ValueError: it broke' });
    expect(err.message).not.toContain('Traceback');
    const debug = lines.filter((l) => l.startsWith('debug: '));
    expect(debug).toHaveLength(1);
    expect(debug[0]).toMatch(/Traceback \(most recent call last\):\n {2}File ".*handlers\/greet\.py", line \d+, in boom\n/);
    expect(debug[0]).not.toContain('orch_bridge');
  });

  it('say what is wrong with a module, a missing function or a result that is not JSON', async () => {
    expect(await failure(invokeTool(project, 'broken', {}, { stateDir }))).toMatchObject({ code: 'ORCH_HANDLER_LOAD', exitCode: 2, message: expect.stringContaining('SyntaxError') });
    expect(await failure(invokeTool(project, 'absent', {}, { stateDir }))).toMatchObject({ code: 'ORCH_HANDLER_EXPORT', exitCode: 2 });
    expect(await failure(invokeTool(project, 'not_json', {}, { stateDir }))).toMatchObject({ code: 'ORCH_TOOL_FAILED', message: expect.stringContaining('not JSON') });
  });

  it('say how to get Python when there is none', async () => {
    process.env.ORCH_PYTHON = path.join(stateDir, 'no-such-python');
    try {
      const err = await failure(invokeTool(project, 'hello', { name: 'x' }, { stateDir }));
      expect(err).toMatchObject({ code: 'ORCH_PYTHON_NOT_FOUND', exitCode: 2, hint: expect.stringContaining('apt-get install python3') });
    } finally {
      if (existsSync(DEBIAN_PYTHON)) process.env.ORCH_PYTHON = DEBIAN_PYTHON;
      else delete process.env.ORCH_PYTHON;
    }
  });

  it('stop the Python process when the call is cancelled, even one that ignores SIGINT and SIGTERM', async () => {
    for (const name of ['wait', 'stubborn']) {
      const pidFile = path.join(stateDir, `${name}.pid`);
      const controller = new AbortController();
      const call = invokeTool(project, name, { pid_file: pidFile }, { signal: controller.signal, stateDir });
      while (!existsSync(pidFile) || (await readPids(pidFile)).length === 0) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      expect(await failure(call)).toMatchObject({ code: 'ORCH_CANCELLED' });
      // The call settles only once the process is gone.
      expect(await survivors(await readPids(pidFile), 0)).toEqual([]);
    }
  });

  it('end what a handler leaves running in its process group when the call ends', async () => {
    const pidFile = path.join(stateDir, 'child.pid');
    expect((await invokeTool(project, 'leave_child', { pid_file: pidFile }, { stateDir })).value).toBe('left one behind');
    expect(await survivors(await readPids(pidFile))).toEqual([]);
  });
});
