import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AssignResult } from '../../../src/orchestration/assign.js';
import type { OrchestrationReport } from '../../../src/orchestration/report.js';
import { callAs, orchProject, teamYaml, type OrchProject } from '../../helpers/orchestration.js';

const SECRET = 'supersecretvalue123';
const tools = `  leak:
    description: Prints a secret of its environment
    script: { shell: 'echo "tok=$MY_API_TOKEN"' }
  leak_fail:
    description: Prints a secret of its environment, then fails
    script: { shell: 'echo "tok=$MY_API_TOKEN" >&2; exit 1' }
`;

let p: OrchProject | undefined;
afterEach(() => {
  p?.cleanup();
  vi.unstubAllEnvs();
});

/** Every file under dir whose content contains text. */
function filesContaining(dir: string, text: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => readFileSync(file, 'utf8').includes(text));
}

describe('orchestration keeps secrets out of .orch/', () => {
  it('redacts results, errors, inputs and the journal, and returns the report as saved', async () => {
    vi.stubEnv('MY_API_TOKEN', SECRET);
    p = await orchProject(teamYaml({ workers: 2 }), { tools });
    const report = await callAs<OrchestrationReport>(p, 'orchestrate', {
      task: {
        subtasks: [
          { id: 'fetch_token', tool: 'leak' },
          { id: 'bad', tool: 'leak_fail' },
          { id: 'board', tool: 'increment', input: { board: { note: `uses ${SECRET}` } } },
        ],
      },
    });
    // The tools did see the secret; only what orch writes down and hands back hides it.
    expect(report.subtasks.fetch_token).toMatchObject({ status: 'succeeded', result: 'tok=[REDACTED]' });
    expect(report.subtasks.bad).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('tok=[REDACTED]') } });
    expect(JSON.stringify(report)).not.toContain(SECRET);
    const assigned = await callAs<AssignResult>(p, 'assign_task', { agent_id: 'worker-1', task: { tool: 'leak' } });
    expect(assigned).toMatchObject({ status: 'completed', result: 'tok=[REDACTED]' });
    expect(filesContaining(p.stateDir, SECRET)).toEqual([]);
    expect(filesContaining(p.stateDir, '[REDACTED]').map((f) => path.basename(f)).sort()).toEqual(expect.arrayContaining(['journal.jsonl', 'plan.json', 'report.json']));
  });
});
