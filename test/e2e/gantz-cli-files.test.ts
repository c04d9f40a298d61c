import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, orch as runOrch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

const project = tempProject({
  'gantz.yaml':
    'name: gantz-cli\nserver:\n  port: 0\ntools:\n  - name: hi\n    script:\n      shell: echo hi\n' +
    '  - name: analyse\n    parameters:\n      - { name: task, type: object, required: true }\n    script:\n      shell: echo {{task}}\n',
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

describe("the seeds' `--task` literal", () => {
  it('`{"type": "analysis", "data": {...}}` is refused with the column and what is wrong', () => {
    const r = runOrch(['run', 'analyse', '--task', '{"type": "analysis", "data": {...}}'], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error ORCH_INPUT --task is not valid JSON at column 31: found "...", which stands for "and so on"');
    expect(r.stderr).toContain(`\n    {"type": "analysis", "data": {...}}\n    ${' '.repeat(30)}^\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // As the whole input of a tool without a `task` parameter, the same.
    const whole = runOrch(['run', 'hi', '--task', '{"type": "analysis", "data": {...}}'], { cwd: project.dir });
    expect(whole.code).toBe(2);
    expect(whole.stderr).toContain('--task is not valid JSON at column 31');
  });
});
