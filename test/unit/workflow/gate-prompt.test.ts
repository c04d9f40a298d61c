import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalGate } from '../../../src/cli/ui/gate-prompt.js';
import type { StepDef } from '../../../src/config/model.js';

const step: StepDef = {
  id: 'deploy',
  agent: 'deployer',
  action: 'deploy',
  with: {},
  needs: [],
  onFailure: 'abort',
  origin: { file: 'agent-team.yaml', path: [] },
};

async function answer(text: string | null): Promise<{ approved: boolean | undefined; shown: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString()));
  const asking = terminalGate(input, output)({ runId: 'r1', step, when: 'after', args: { env: 'prod' }, output: { ok: true } }, new AbortController().signal);
  if (text === null) input.end();
  else input.write(text);
  return { approved: (await asking) as boolean | undefined, shown };
}

describe('the gate prompt', () => {
  it('y + Enter approves', async () => {
    expect((await answer('y\n')).approved).toBe(true);
    expect((await answer('YES\n')).approved).toBe(true);
  });

  it('defaults to No: n + Enter, a bare Enter, anything else or end of input reject', async () => {
    for (const text of ['n\n', '\n', 'maybe\n', null]) expect((await answer(text)).approved).toBe(false);
  });

  it('shows the step, its arguments and its output', async () => {
    const { shown } = await answer('n\n');
    expect(shown).toContain('after step `deploy` (deployer: deploy) of run r1');
    expect(shown).toContain('env: prod');
    expect(shown).toContain('ok: true');
    expect(shown).toContain('Approve? [y/N]');
  });
});

describe('several gates at once', () => {
  it('asks one at a time: one answer decides one gate', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => (shown += d.toString()));
    const ask = terminalGate(input, output);
    const signal = new AbortController().signal;
    const first = ask({ runId: 'r1', step, when: 'before', args: {} }, signal);
    const second = ask({ runId: 'r1', step: { ...step, id: 'other' }, when: 'before', args: {} }, signal);
    input.write('y\n');
    expect(await first).toBe(true);
    await new Promise((r) => setImmediate(r));
    // The second question appears only after the first was answered.
    expect(shown.match(/Approve\? \[y\/N\]/g)).toHaveLength(2);
    input.write('n\n');
    expect(await second).toBe(false);
  });

  it('an interruption ends the question with no decision', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const controller = new AbortController();
    const asking = terminalGate(input, output)({ runId: 'r1', step, when: 'before', args: {} }, controller.signal);
    controller.abort('SIGINT');
    expect(await asking).toBeUndefined();
  });
});

describe("the prompt for an agent's question", () => {
  const ask = async (text: string): Promise<{ said: unknown; shown: string }> => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => (shown += d.toString()));
    const call = { call_id: 'c1', tool: 'ask_human', input: { question: 'Which region?' } };
    const asking = terminalGate(input, output)({ runId: 'r1', step, when: 'before', args: call.input, toolCall: call, question: 'Which region?' }, new AbortController().signal);
    input.write(text);
    return { said: await asking, shown };
  };

  it('shows the question and takes the line typed as the answer', async () => {
    const { said, shown } = await ask('  eu-west-1  \n');
    expect(said).toBe('eu-west-1');
    expect(shown).toContain('asks:\n    Which region?');
    expect(shown).toContain('Answer (an empty line declines): ');
  });

  it('an empty line declines to answer', async () => {
    expect((await ask('\n')).said).toBe(false);
  });
});
