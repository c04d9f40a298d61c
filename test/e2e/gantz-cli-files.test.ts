import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

const project = tempProject({
  'gantz.yaml': 'name: gantz-cli\nserver:\n  port: 0\ntools:\n  - name: hi\n    script:\n      shell: echo hi\n',
});
afterAll(() => project.cleanup());

describe("the Gantz CLI's server block", () => {
  it('`orch serve --http` without a number binds gantz.yaml\'s server.port', async () => {
    const orch = execa(process.execPath, [BIN, '-C', project.dir, 'serve', '--http'], { reject: false, stdin: 'ignore', buffer: false });
    const url = await new Promise<URL>((resolve, reject) => {
      let seen = '';
      orch.stderr.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const found = /tools at (http:\/\/\S+)/.exec(seen);
        if (found?.[1]) resolve(new URL(found[1]));
      });
      void orch.then(() => reject(new Error(`orch serve ended early: ${seen}`)));
    });
    orch.kill('SIGTERM');
    await orch;
    // Port 0 (a free port) came from the file: the Gantz default, 3000, would show otherwise.
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(url.port).not.toBe('3000');
  });
});
