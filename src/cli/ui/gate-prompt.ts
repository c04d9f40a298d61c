import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { GateAsker, GateRequest } from '../../workflow/engine.js';

function preview(value: unknown, limit = 20): string {
  const text = typeof value === 'string' ? value : stringify(value).trimEnd();
  const lines = text.split('\n');
  const shown = lines.slice(0, limit).map((l) => `    ${l.length > 200 ? `${l.slice(0, 200)}…` : l}`);
  if (lines.length > limit) shown.push(`    … ${lines.length - limit} more lines`);
  return shown.join('\n');
}

/** What the person at the terminal is asked about: the step, its arguments and (after it ran) its output. */
function describeGate(request: GateRequest): string {
  const { step, when } = request;
  if (request.question !== undefined) {
    return `\nThe agent of step \`${step.id}\` (${step.agent}) of run ${request.runId} asks:\n${preview(request.question)}\n`;
  }
  const lines = [
    '',
    `Approval needed ${when === 'before' ? 'before' : 'after'} step \`${step.id}\` (${step.agent}: ${step.action}) of run ${request.runId}`,
  ];
  if (Object.keys(request.args).length > 0) lines.push('  arguments:', preview(request.args));
  if (when === 'after') lines.push('  output:', request.output === undefined || request.output === null ? '    (none)' : preview(request.output));
  return `${lines.join('\n')}\n`;
}

/**
 * The gate prompt: default No — `y` + Enter approves, `n` + Enter or a bare Enter
 * rejects. The streams are parameters so tests drive them with fake streams or a real
 * pseudo-terminal. End of input counts as No. Gates that come due together are asked one
 * at a time, each needing its own answer; an interruption (Ctrl-C) ends the question
 * with no decision.
 */
export function terminalGate(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, beforeAsk?: () => void, afterAsk?: () => void): GateAsker {
  let queue: Promise<unknown> = Promise.resolve();
  const askOne = (request: GateRequest, signal: AbortSignal): Promise<boolean | string | undefined> =>
    new Promise<boolean | string | undefined>((resolve) => {
      if (signal.aborted) return resolve(undefined);
      beforeAsk?.();
      output.write(describeGate(request));
      const rl = createInterface({ input, output, terminal: false });
      let answered = false;
      const finish = (approved: boolean | string | undefined): void => {
        if (answered) return;
        answered = true;
        signal.removeEventListener('abort', onAbort);
        rl.close();
        const said = typeof approved === 'string' ? '  answered\n' : request.question !== undefined && approved === false ? '  not answered\n' : approved ? '  approved\n' : '  rejected\n';
        output.write(approved === undefined ? '\n  interrupted: no decision\n' : said);
        afterAsk?.();
        resolve(approved);
      };
      const onAbort = (): void => finish(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      if (request.question !== undefined) {
        // A question takes a line of text; an empty line declines to answer.
        output.write('Answer (an empty line declines): ');
        rl.on('line', (line) => finish(line.trim() === '' ? false : line.trim()));
        rl.on('close', () => finish(false));
        return;
      }
      output.write(`Approve? [y/N] `);
      rl.on('line', (line) => finish(/^\s*(y|yes)\s*$/i.test(line)));
      rl.on('close', () => finish(false));
    });
  return (request, signal) => {
    const turn = queue.then(() => askOne(request, signal));
    queue = turn.catch(() => undefined);
    return turn;
  };
}
