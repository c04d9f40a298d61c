import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The example as shipped, with `npx -y <server>` pointed at the copy of that server in
 * node_modules: the same server, run offline.
 */
function copyOfExample(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orch-example-forwarding-'));
  cpSync(path.join(root, 'examples/mcp-forwarding'), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}.orch`) });
  const file = path.join(dir, '.mcp.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as { mcpServers: Record<string, { command: string; args: string[] }> };
  for (const server of Object.values(config.mcpServers)) {
    expect(server.command).toBe('npx');
    const [, pkg, ...rest] = server.args;
    const main = path.join(root, 'node_modules', pkg ?? '', 'dist/index.js');
    Object.assign(server, { command: process.execPath, args: [main, ...rest] });
  }
  writeFileSync(file, JSON.stringify(config, null, 2));
  return dir;
}

describe('examples/mcp-forwarding', () => {
  it('files its notes with `file_notes`: the text read is what the memory server stores', () => {
    const project = copyOfExample();
    const run = orch(['run', 'file_notes'], { cwd: project, env: { PWD: project } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const recall = orch(['--json', 'run', 'recall', '--query', 'release'], { cwd: project, env: { PWD: project } });
    expect(recall.code).toBe(0);
    expect(recall.stdout).toContain('The release train leaves on Tuesdays.');
  });
});
