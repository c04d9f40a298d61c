import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { chat } from '../../../src/llm/chat.js';
import type { StubRequest } from '../../helpers/llm-stub.js';

const entry = fileURLToPath(new URL('../../fixtures/llm-stub-server.mjs', import.meta.url));

describe('the LLM stub as a process of its own', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves its script file, takes more replies over HTTP and lists the requests it got', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-stub-'));
    const script = path.join(dir, 'script.json');
    writeFileSync(script, JSON.stringify({ replies: [{ text: 'from the script' }] }));
    const child = spawn(process.execPath, [entry, script], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const { url, port, anthropicBase, openaiBase } = JSON.parse(line) as { url: string; port: number; anthropicBase: string; openaiBase: string };
      expect(url).toBe(`http://127.0.0.1:${port}`);

      const ask = (provider: 'anthropic' | 'openai', text: string) =>
        chat({
          model: provider === 'anthropic' ? { provider, model: 'claude-haiku-4-5', baseURL: `${anthropicBase}/v1` } : { provider, model: 'gpt-4.1', baseURL: openaiBase },
          system: 's',
          messages: [{ role: 'user', text }],
          tools: [],
          env: {},
        });
      expect((await ask('anthropic', 'one')).text).toBe('from the script');
      await fetch(`${url}/_stub/replies`, { method: 'POST', body: JSON.stringify([{ text: 'queued later', usage: { input_tokens: 1, output_tokens: 2 } }]) });
      const second = await ask('openai', 'two');
      expect([second.text, second.usage]).toEqual(['queued later', { input_tokens: 1, output_tokens: 2 }]);

      const requests = (await (await fetch(`${url}/_stub/requests`)).json()) as StubRequest[];
      expect(requests.map((r) => [r.api, JSON.stringify(r.body.messages).includes(r.api === 'anthropic' ? 'one' : 'two')])).toEqual([
        ['anthropic', true],
        ['openai', true],
      ]);
    } finally {
      // Its owner ends stdin; the stub stops by itself (SIGTERM only if it did not).
      const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
      child.stdin.end();
      const force = setTimeout(() => child.kill('SIGTERM'), 5000);
      await exited;
      clearTimeout(force);
    }
    expect(child.exitCode).toBe(0);
  });
});
