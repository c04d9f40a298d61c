import { Chalk } from 'chalk';
import ora, { type Ora } from 'ora';
import type { RunEvent } from '../../state/events.js';

/**
 * The live step list on stderr (only on a TTY): a spinner naming the steps running now,
 * and a line as each step finishes, fails, is skipped or waits at a gate.
 */
export class StepView {
  private readonly spinner: Ora;
  private readonly running = new Map<string, number>();
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
        this.running.set(e.step, e.attempt);
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

  private text(): string {
    return `running ${[...this.running.keys()].join(', ')}`;
  }

  private persist(symbol: string, text: string): void {
    this.spinner.stopAndPersist({ symbol, text });
  }
}
