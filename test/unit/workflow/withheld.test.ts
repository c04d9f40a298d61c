import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load.js';
import type { Project, WorkflowDef } from '../../../src/config/model.js';
import type { RunEvent } from '../../../src/state/events.js';
import { foldRun, type RunState } from '../../../src/state/run-state.js';
import { assertNothingWithheld, restoreInputs } from '../../../src/workflow/withheld.js';
import { tempProject } from '../../helpers/project.js';

const GANTZ = `
tools:
  echo:
    parameters: { text: { type: string } }
    script: { shell: "echo {{text}}" }
`;
const TEAM = `
agents:
  - { role: w, tools: [echo] }
  - { role: writer, model: claude-sonnet-4-20250514 }
workflows:
  summary:
    inputs:
      api_key: { type: string }
      retries: { type: integer, default: 1 }
    steps:
      - { id: fetch, agent: w, action: echo, with: { text: "\${{ inputs.retries }}" } }
      - { id: write, agent: writer, action: summarise_the_findings, needs: [fetch] }
`;

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function load(): Promise<{ project: Project; workflow: WorkflowDef }> {
  const dir = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM });
  cleanup = dir.cleanup;
  const { project } = await loadProject({ dir: dir.dir });
  const workflow = project.workflows.get('summary');
  if (!workflow) throw new Error('no workflow');
  return { project, workflow };
}

const at = '2026-12-01T00:00:00.000Z';

/** A run as its journal holds it: inputs and the first step's output as given, the LLM step's conversation so far. */
function stored(output: unknown, conversation: RunEvent[] = []): RunState {
  const state = foldRun([
    { type: 'run_started', at, run_id: 'r1', workflow: 'summary', inputs: { api_key: '[REDACTED]', retries: 1 }, dir: '/p', pid: 1 },
    { type: 'step_started', at, step: 'fetch', attempt: 1 },
    { type: 'step_succeeded', at, step: 'fetch', output, duration_ms: 1 },
    { type: 'step_started', at, step: 'write', attempt: 1 },
    ...conversation,
  ]);
  if (!state) throw new Error('no state');
  return state;
}

const turn = (text: string): RunEvent => ({
  type: 'model_turn',
  at,
  step: 'write',
  turn: 1,
  model: 'claude-sonnet-4-20250514',
  request_digest: 'd',
  text,
  tool_calls: [{ call_id: 'c1', tool: 'echo', input: { text } }],
  usage: { input_tokens: 10, output_tokens: 2 },
  duration_ms: 1,
});

describe('a resumed LLM step and what its journal withheld', () => {
  it('refuses when an output the model is given held a secret', async () => {
    const { project, workflow } = await load();
    expect(() => assertNothingWithheld(project, workflow, stored('token [REDACTED]'))).toThrow(
      expect.objectContaining({ code: 'ORCH_SECRET_WITHHELD', message: expect.stringContaining('step `write` reads `steps.fetch.output` (given to its model)') as string }),
    );
  });

  it('refuses when its conversation so far held a secret', async () => {
    const { project, workflow } = await load();
    expect(() => assertNothingWithheld(project, workflow, stored('fine', [turn('use [REDACTED]')]))).toThrow(
      expect.objectContaining({ code: 'ORCH_SECRET_WITHHELD', message: expect.stringContaining('its conversation with the model so far') as string }),
    );
  });

  it('lets it continue when nothing it reads was withheld, an unread withheld input included', async () => {
    const { project, workflow } = await load();
    expect(() => assertNothingWithheld(project, workflow, stored('fine', [turn('all good')]))).not.toThrow();
  });
});

describe('inputs given again on resume', () => {
  it('fill in only inputs the journal withheld, of the declared type', async () => {
    const { workflow } = await load();
    const state = stored('fine');
    expect(restoreInputs(workflow, state, { api_key: 'real-key-abc' })).toEqual({ api_key: 'real-key-abc', retries: 1 });
    expect(() => restoreInputs(workflow, state, { retries: 2 })).toThrow(expect.objectContaining({ code: 'ORCH_INPUT', message: expect.stringContaining('`retries` is stored with run r1') as string }));
    expect(() => restoreInputs(workflow, state, { api_key: 3 })).toThrow(expect.objectContaining({ code: 'ORCH_INPUT', message: expect.stringContaining('must be a string') as string }));
    expect(() => restoreInputs(workflow, state, { nope: 'x' })).toThrow(expect.objectContaining({ code: 'ORCH_INPUT', exitCode: 2 }));
  });
});
