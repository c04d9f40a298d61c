import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { breathe, orch } from '../helpers/cli.js';
import { listTemplates } from '../../src/cli/commands/init.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Splits a shell line the way the templates write them: words, and '...' quoted words. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

const templates = await listTemplates();

describe('every template does what `orch init` says to do next', () => {
  it.each(templates)('$name', async ({ name, next }) => {
    dir = mkdtempSync(path.join(os.tmpdir(), `orch-template-${name}-`));
    expect(orch(['init', dir, '--template', name, '-q']).code).toBe(0);
    expect(next.length).toBeGreaterThan(0);
    for (const line of next) {
      const [command, ...args] = words(line);
      expect(command).toBe('orch');
      await breathe();
      const r = orch(args, { cwd: dir });
      // A workflow with an approval gate pauses (exit 3) when there is no terminal to ask on.
      expect([0, 3], `${line}\n${r.stdout}\n${r.stderr}`).toContain(r.code);
    }
  });
});
