import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, exitCodeOf, isErrorCode, isRetryable, type ErrorCode } from '../../src/error-codes.js';
import { ConfigError, ExitCode, OrchError } from '../../src/errors.js';
import { readRepoFile, repoRoot, sourceFiles } from '../helpers/source-files.js';

/** A whole quoted `ORCH_*` string: a code. Env variables (`env.ORCH_STATE_DIR`) and `ORCH_P_${...}` are not quoted whole. */
const CODE_LITERAL = /(['"`])(ORCH_[A-Z0-9_]+)\1/g;

const START = '<!-- error-codes:start (generated from src/error-codes.ts; UPDATE_DOCS=1 npx vitest run test/unit/error-codes.test.ts) -->';
const END = '<!-- error-codes:end -->';

function readmeTable(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) => `| \`${code}\` | ${e.exit} | ${e.retryable ? 'yes' : 'no'} | ${e.doc.replace(/\|/g, '\\|')} |`,
  );
  return ['| code | exit | retryable | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

describe('the error code registry', () => {
  it('holds every code literal in src', () => {
    const unknown: string[] = [];
    for (const file of sourceFiles()) {
      for (const match of readRepoFile(file).matchAll(CODE_LITERAL)) {
        const code = match[2] ?? '';
        if (!isErrorCode(code)) unknown.push(`${file}: ${code}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('documents each code in one line and gives it an exit code of the CLI contract', () => {
    const contract = new Set<number>([ExitCode.runFailed, ExitCode.usage, ExitCode.paused, ExitCode.sigint]);
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(entry.doc.trim(), code).not.toBe('');
      expect(entry.doc, code).not.toContain('\n');
      expect(contract.has(entry.exit), `${code} exits ${entry.exit}`).toBe(true);
    }
  });

  it('keeps the merged near-duplicates out', () => {
    for (const gone of ['ORCH_TOOL_UNKNOWN', 'ORCH_SERVER_UNKNOWN', 'ORCH_TOOL_CANCELLED', 'ORCH_WORKER']) {
      expect(isErrorCode(gone), gone).toBe(false);
    }
  });

  it('calls failures that another attempt may fix retryable, and mistakes and cancellations not', () => {
    const retryable: ErrorCode[] = ['ORCH_TOOL_FAILED', 'ORCH_TOOL_TIMEOUT', 'ORCH_TOOL_ERROR', 'ORCH_SERVER_EXITED', 'ORCH_WORKER_DIED'];
    const permanent: ErrorCode[] = [
      'ORCH_INPUT', 'ORCH_UNKNOWN_TOOL', 'ORCH_UNKNOWN_AGENT', 'ORCH_UNKNOWN_STEP', 'ORCH_SCHEMA', 'ORCH_CANCELLED', 'ORCH_BUDGET_EXCEEDED',
    ];
    expect(retryable.filter((c) => !isRetryable(c))).toEqual([]);
    expect(permanent.filter((c) => isRetryable(c))).toEqual([]);
  });

  it("gives an OrchError its code's exit code unless the call site says otherwise", () => {
    expect(new OrchError('ORCH_TOOL_FAILED', 'x').exitCode).toBe(1);
    expect(new OrchError('ORCH_INPUT', 'x').exitCode).toBe(2);
    expect(new OrchError('ORCH_CANCELLED', 'x').exitCode).toBe(exitCodeOf('ORCH_CANCELLED'));
    expect(new OrchError('ORCH_CANCELLED', 'x', { exitCode: ExitCode.sigterm }).exitCode).toBe(143);
    // A configuration that does not load exits 2 even when its first issue is a start failure.
    const issue = { severity: 'error', code: 'ORCH_SERVER_START', message: 'x', file: 'gantz.yaml' } as const;
    expect(new ConfigError([issue]).exitCode).toBe(2);
  });

  it('is the table in README', () => {
    const readme = readRepoFile('README.md');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, `README.md needs the markers ${START} … ${END}`).toBeGreaterThan(-1);
    const current = readme.slice(start + START.length, end).trim();
    if (process.env.UPDATE_DOCS === '1' && current !== readmeTable()) {
      writeFileSync(path.join(repoRoot, 'README.md'), `${readme.slice(0, start + START.length)}\n${readmeTable()}\n${readme.slice(end)}`);
      return;
    }
    expect(current).toBe(readmeTable());
  });
});
