// Records the LLM exchanges of a project's run against the test stub provider, for the
// committed recordings that let templates and examples run offline (`--replay`):
//   node scripts/record-with-stub.mjs <project-dir> <replies.json> <orch args...>
// e.g. node scripts/record-with-stub.mjs templates/devops-team test/fixtures/devops-team-replies.json \
//        run deploy_request --input '{"service": "payments", "version": "1.4.2"}' --approve-all --record cassettes
// replies.json is the stub's script (test/helpers/llm-stub.ts): the model's answers, in
// order. Files the run writes in the project (deployments/, .orch/) are removed afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [project, replies, ...args] = process.argv.slice(2);
if (!project || !replies || args.length === 0) {
  console.error('usage: node scripts/record-with-stub.mjs <project-dir> <replies.json> <orch args...>');
  process.exit(2);
}
const before = new Set(['deployments', '.orch'].filter((f) => existsSync(path.join(project, f))));
const stub = spawn(process.execPath, [path.join(root, 'test/fixtures/llm-stub-server.mjs'), path.resolve(replies)], { stdio: ['pipe', 'pipe', 'inherit'] });
const line = await new Promise((resolve) => createInterface({ input: stub.stdout }).once('line', resolve));
const { anthropicBase, openaiBase } = JSON.parse(line);
const run = spawnSync(process.execPath, [path.join(root, 'bin/orch.js'), ...args], {
  cwd: project,
  stdio: 'inherit',
  env: { ...process.env, ANTHROPIC_BASE_URL: anthropicBase, OPENAI_BASE_URL: openaiBase, ANTHROPIC_API_KEY: 'recording-key', OPENAI_API_KEY: 'recording-key' },
});
stub.kill('SIGTERM');
for (const f of ['deployments', '.orch']) if (!before.has(f)) rmSync(path.join(project, f), { recursive: true, force: true });
process.exit(run.status ?? 1);
