import { Chalk } from 'chalk';
import ora, { type Ora } from 'ora';
import type { RunEvent } from '../../state/events.js';

/** What a running step is doing, as far as its journal events tell. */
interface Activity {
  attempt: number;
  /** The model turn under way (an LLM step), from its first answer on. */
  turn?: number;
  model?: string;
  /** Tools the model called that have not finished yet, by call id. */
  calls: Map<string, string>;
}

/**
 * The live step list on stderr (only on a TTY): a spinner naming the steps running now
 * (for an LLM step, its model turn and the tools it is calling), and a line as each step
 * finishes, fails, is skipped or waits at a gate.
 */
export class StepView {
  private readonly spinner: Ora;
  private readonly running = new Map<string, Activity>();
  private readonly c: InstanceType<typeof Chalk>;

  constructor(stream: NodeJS.WritableStream, color: boolean) {
    this.c = new Chalk({ level: color ? 1 : 0 });
    // A terminal that reports no width (a bare pseudo-terminal) cannot be redrawn in
    // place: there the view prints plain lines instead of animating.
    const columns = (stream as { columns?: number }).columns ?? 0;
    this.spinner = ora({ stream, isEnabled: columns > 0, color: 'cyan', discardStdin: false });
  }

  /** Call around anything else written to the terminal (the gate prompt). */
  pause(): void {
    this.spinner.stop();
  }

  resume(): void {
    if (this.running.size > 0) this.spinner.start(this.text());
  }

  onEvent = (e: RunEvent): void => {
    const c = this.c;
    switch (e.type) {
      case 'step_started':
        this.running.set(e.step, { attempt: e.attempt, calls: new Map() });
        break;
      case 'model_turn': {
        const a = this.running.get(e.step);
        if (!a) break;
        a.turn = e.turn;
        a.model = e.model;
        // The calls it asked for are what the step does next (a refused one finishes at once).
        a.calls = new Map(e.tool_calls.map((call) => [call.call_id, call.tool]));
        break;
      }
      case 'tool_call_started':
        this.running.get(e.step)?.calls.set(e.call_id, e.tool);
        break;
      case 'tool_call_finished':
        this.running.get(e.step)?.calls.delete(e.call_id);
        break;
      case 'step_succeeded':
        this.running.delete(e.step);
        this.persist(c.green('✔'), `${e.step} ${c.dim(`${e.duration_ms} ms`)}`);
        break;
      case 'step_failed':
        if (e.final) this.running.delete(e.step);
        this.persist(e.final ? c.red('✖') : c.yellow('↻'), `${e.step} ${e.final ? 'failed' : `failed (attempt ${e.attempt}), retrying`}: ${e.error.split('\n')[0] ?? ''}`);
        break;
      case 'step_skipped':
        this.persist(c.dim('-'), c.dim(`${e.step} skipped: ${e.reason}`));
        break;
      case 'gate_waiting':
        this.persist(c.yellow('⏸'), `${e.step} awaits approval (${e.when})`);
        break;
      case 'gate_decided':
        this.persist(e.decision === 'approved' ? c.green('✔') : c.red('✖'), `${e.step} ${e.decision} by ${e.by} (${e.method})`);
        break;
      default:
        break;
    }
    if (this.running.size > 0) this.spinner.start(this.text());
    else this.spinner.stop();
  };

  stop(): void {
    this.spinner.stop();
  }

  /** e.g. `running review (turn 2: read_release_notes, run_static_analysis), smoke`. */
  text(): string {
    const steps = [...this.running].map(([step, a]) => {
      if (a.turn === undefined) return step;
      const calls = [...new Set(a.calls.values())];
      // Between a turn's last tool result and the next answer, the model is being asked again.
      return calls.length > 0 ? `${step} (turn ${a.turn}: ${calls.join(', ')})` : `${step} (turn ${a.turn + 1}: asking ${a.model ?? 'the model'})`;
    });
    return `running ${steps.join(', ')}`;
  }

  private persist(symbol: string, text: string): void {
    this.spinner.stopAndPersist({ symbol, text });
  }
}
