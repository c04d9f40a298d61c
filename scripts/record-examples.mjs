// Records again the cassettes of the LLM pattern examples (examples/<name>-llm), each from
// its scripted model answers in test/fixtures/examples-llm/<name>.json: `runs`, each the
// `args` of one orch command and the `replies` the stub provider gives it, in order,
// recorded through record-with-stub.mjs into the same cassettes/ folder:
//   node scripts/record-examples.mjs                      every example
//   node scripts/record-examples.mjs swarm-llm ...        only these
// Run it after changing an example's prompts, tools or task (a replay then misses), and
// commit the cassettes/ folders it writes. Needs the build (npm run build).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scripts = path.join(root, 'test/fixtures/examples-llm');
const all = readdirSync(scripts).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
const names = process.argv.length > 2 ? process.argv.slice(2) : all;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`no script for ${name}: the examples with one are ${all.join(', ')}`);
    process.exit(2);
  }
  const { runs } = JSON.parse(readFileSync(path.join(scripts, `${name}.json`), 'utf8'));
  const project = path.join(root, 'examples', name);
  rmSync(path.join(project, 'cassettes'), { recursive: true, force: true });
  const scratch = mkdtempSync(path.join(tmpdir(), 'orch-record-'));
  try {
    for (const [i, { args, replies }] of runs.entries()) {
      const script = path.join(scratch, `run-${i}.json`);
      writeFileSync(script, JSON.stringify(replies));
      console.error(`recording examples/${name}: orch ${args.join(' ')} --record cassettes`);
      const record = [path.join(root, 'scripts/record-with-stub.mjs'), project, script, ...args, '--record', 'cassettes'];
      // The run's result is not wanted here, only its errors.
      const run = spawnSync(process.execPath, record, { stdio: ['ignore', 'ignore', 'inherit'] });
      if (run.status !== 0) {
        console.error(`recording examples/${name} failed (exit ${run.status ?? 'by signal'})`);
        process.exit(1);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
