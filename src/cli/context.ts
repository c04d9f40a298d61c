/** Global flags every command receives (DESIGN.md section 2). */
export interface GlobalOptions {
  /** Absolute project directory (`-C`, default the cwd). */
  dir: string;
  /** Other file name for gantz.yaml (`--config`). */
  config?: string;
  /** Other file name for agent-team.yaml (`--team`). */
  team?: string;
  /** Queue engine URL (`--engine`), else ORCH_ENGINE, else agent-team.yaml's `engine:`. */
  engine?: string;
  /** `--otel <url>`: export traces to this OTLP/HTTP collector (as OTEL_EXPORTER_OTLP_ENDPOINT would). */
  otel?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
}

/** Streams a command writes to; injected so tests can capture them. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
