const MAX_LINES = 20;
const MAX_LINE_LENGTH = 500;

/**
 * The last lines a server wrote to stderr, kept so that an error about a failed start or
 * a crash can show what the server itself said. Memory stays bounded however chatty the
 * server is.
 */
export class StderrTail {
  private readonly lines: string[] = [];
  private partial = '';

  push(chunk: Buffer | string): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = (parts.pop() ?? '').slice(-MAX_LINE_LENGTH);
    for (const line of parts) this.add(line);
  }

  /** The tail, most recent last; empty when the server said nothing. */
  text(): string {
    const lines = this.partial ? [...this.lines, this.partial] : this.lines;
    return lines.slice(-MAX_LINES).join('\n');
  }

  /** The tail indented under a heading, for the end of an error message. */
  describe(): string {
    const text = this.text();
    if (!text) return '';
    return `\n  server stderr (last lines):\n${text.split('\n').map((l) => `    | ${l}`).join('\n')}`;
  }

  private add(line: string): void {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed === '') return;
    this.lines.push(trimmed.length > MAX_LINE_LENGTH ? `${trimmed.slice(0, MAX_LINE_LENGTH)}…` : trimmed);
    if (this.lines.length > MAX_LINES) this.lines.shift();
  }
}
