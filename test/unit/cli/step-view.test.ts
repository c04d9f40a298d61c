import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/state/events.js';
import { StepView } from '../../../src/cli/ui/step-view.js';

const at = '2026-01-01T00:00:00.000Z';
const usage = { input_tokens: 10, output_tokens: 5 };

describe('the live step view', () => {
  it("names an LLM step's model turn and the tools it is calling", () => {
    const view = new StepView(new PassThrough(), false);
    const feed = (e: Record<string, unknown>): void => view.onEvent({ at, ...e } as unknown as RunEvent);
    feed({ type: 'step_started', step: 'review', attempt: 1 });
    feed({ type: 'step_started', step: 'lint', attempt: 1 });
    expect(view.text()).toBe('running review, lint');
    const calls = [
      { call_id: 'c1', tool: 'read_notes', input: {} },
      { call_id: 'c2', tool: 'static_analysis', input: {} },
    ];
    feed({ type: 'model_turn', step: 'review', turn: 1, model: 'claude-sonnet-4-5', request_digest: 'd', text: '', tool_calls: calls, usage });
    expect(view.text()).toBe('running review (turn 1: read_notes, static_analysis), lint');
    feed({ type: 'tool_call_started', step: 'review', turn: 1, call_id: 'c1', tool: 'read_notes', input: {} });
    feed({ type: 'tool_call_finished', step: 'review', turn: 1, call_id: 'c1', tool: 'read_notes', ok: true, output: 'x' });
    expect(view.text()).toBe('running review (turn 1: static_analysis), lint');
    feed({ type: 'tool_call_finished', step: 'review', turn: 1, call_id: 'c2', tool: 'static_analysis', ok: true, output: 'y' });
    expect(view.text()).toBe('running review (turn 2: asking claude-sonnet-4-5), lint');
    feed({ type: 'step_succeeded', step: 'lint', output: null, duration_ms: 3 });
    expect(view.text()).toBe('running review (turn 2: asking claude-sonnet-4-5)');
    view.stop();
  });
});
