import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempProject } from '../helpers/project.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What is not part of the package's source: packing a copy leaves the repository's dist alone for the other tests. */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'test', 'bench', 'coverage', 'test-results']);
/** Run state a user's run of an example would leave; the package must not ship it. */
const PLANTED = 'examples/centralized/.orch/runs/planted/journal.jsonl';

interface PackEntry {
  filename: string;
  files: { path: string }[];
}

const exec = promisify(execFile);

/** Runs a command to completion; asynchronous, so the test worker keeps answering vitest meanwhile. */
async function run(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const env = { ...process.env, NO_COLOR: '1' };
    const { stdout, stderr } = await exec(command, args, { cwd, env, timeout: 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Its stdout, or an error with everything it printed. */
async function sh(command: string, args: string[], cwd: string): Promise<string> {
  const r = await run(command, args, cwd);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** npm prints lifecycle output before the JSON document with --json: the document is the last `[`-line on. */
function packJson(stdout: string): PackEntry[] {
  const start = stdout.lastIndexOf('\n[') + 1;
  return JSON.parse(stdout.slice(start)) as PackEntry[];
}

const work = mkdtempSync(path.join(tmpdir(), 'orch-pack-'));
const source = path.join(work, 'source');
const scratch = path.join(work, 'scratch');
let dryRun: PackEntry;

beforeAll(async () => {
  cpSync(ROOT, source, { recursive: true, filter: (from) => !NOT_COPIED.has(path.relative(ROOT, from).split(path.sep)[0] ?? '') });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(source, 'node_modules'), 'dir');
  mkdirSync(path.dirname(path.join(source, PLANTED)), { recursive: true });
  writeFileSync(path.join(source, PLANTED), '{"type":"run_started"}\n');

  // `prepare` builds dist from the copied sources, as it does for a publish.
  const [packed] = packJson(await sh('npm', ['pack', '--json', '--pack-destination', work], source));
  if (!packed) throw new Error('npm pack printed no package');
  const [listed] = packJson(await sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], source));
  if (!listed) throw new Error('npm pack --dry-run printed no package');
  dryRun = listed;

  // A lockfile seeded from the repository's: npm resolves orch's dependencies to the exact
  // versions `npm ci` put in the cache, so the install needs no registry metadata (--offline).
  mkdirSync(scratch);
  const root = { name: 'scratch', version: '1.0.0' };
  writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ ...root, private: true, type: 'module' }));
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  writeFileSync(
    path.join(scratch, 'package-lock.json'),
    JSON.stringify({ ...lock, ...root, packages: { ...lock.packages, '': root } }),
  );
  await sh('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(work, packed.filename)], scratch);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs an ES module in the scratch project, as a user's script importing `orch`. */
function runScript(name: string, code: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  writeFileSync(path.join(scratch, name), code);
  return run(process.execPath, [name, ...args], scratch);
}

const GANTZ = `
name: api-check
tools:
  greet:
    parameters:
      name: { type: string, required: true }
    script:
      shell: echo hello {{name}}
`;

const TEAM = `
team: { name: api-check }
agents:
  - role: worker
    count: 2
    tools: [greet]
workflows:
  hello:
    inputs:
      who: { type: string, default: world }
    steps:
      - { id: first, agent: worker, action: greet, with: { name: "\${{ inputs.who }}" } }
      - { id: second, agent: worker, action: greet, with: { name: "again \${{ steps.first.output }}" } }
`;

const CHECK = `
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  ConfigError, ExitCode, createToolServer, invokeTool, isOrchError, listRuns, loadProject,
  loadRun, orchestrate, readRunEvents, resumeRun, startRun, validateProject,
} from 'orch';

const [dir, broken] = process.argv.slice(2);
const out = {};
const { project } = await loadProject({ dir });
out.tools = [...project.tools.values()].filter((t) => !t.builtin).map((t) => t.name);
out.builtin = [...project.tools.values()].filter((t) => t.builtin).map((t) => t.name);
out.valid = (await validateProject({ dir })).ok;
out.brokenValid = (await validateProject({ dir: broken })).ok;
out.loadBroken = await loadProject({ dir: broken }).then(
  () => 'loaded',
  (e) => (e instanceof ConfigError && e.exitCode === ExitCode.usage ? e.code : String(e)),
);
out.tool = (await invokeTool(project, 'greet', { name: 'api' })).value;
out.unknownTool = await invokeTool(project, 'gret', {}).then(() => 'ran', (e) => isOrchError(e) ? [e.code, e.hint] : String(e));

const run = await startRun(project, 'hello', { who: 'pkg' });
out.outcome = run.outcome;
out.output = run.state.steps.get('second')?.output;
out.runs = (await listRuns({ dir })).runs.map((r) => [r.runId === run.state.runId, r.status]);
out.state = (await loadRun(project, run.state.runId)).status;
out.events = (await readRunEvents(project, run.state.runId)).map((e) => e.type);
out.resumed = (await resumeRun(project, run.state.runId)).nothingToDo;

const subtasks = ['a', 'b'].map((id) => ({ id, tool: 'greet', input: { name: id } }));
const report = await orchestrate(project, { subtasks });
out.orchestrate = [report.status, report.subtasks.a?.status, report.subtasks.b?.status];

const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
const server = createToolServer(project);
await server.connect(serverSide);
const client = new Client({ name: 'package-test', version: '0.0.0' });
await client.connect(clientSide);
out.served = (await client.listTools()).tools.map((t) => t.name);
out.call = (await client.callTool({ name: 'greet', arguments: { name: 'mcp' } })).content;
await client.close();

out.exitCode = process.exitCode ?? null;
out.signalHandlers = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
console.log(JSON.stringify(out));
console.log('ORCH-API-DONE');
`;

describe('the packed package', () => {
  it('ships dist/index.js with its types, and no run state', () => {
    const paths = dryRun.files.map((f) => f.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('examples/centralized/gantz.yaml');
    expect(paths.filter((p) => p.split('/').includes('.orch'))).toEqual([]);
    expect(existsSync(path.join(scratch, 'node_modules/orch/examples/centralized'))).toBe(true);
    expect(existsSync(path.join(scratch, 'node_modules/orch/examples/centralized/.orch'))).toBe(false);
  });

  it('is imported by a script that loads a project, invokes a tool, runs a workflow and reads its runs, without exiting', async () => {
    const project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM });
    const broken = tempProject({ 'gantz.yaml': 'tools:\n  oops: 3\n' });
    try {
      const r = await runScript('check.mjs', CHECK, [project.dir, broken.dir]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.at(-1)).toBe('ORCH-API-DONE');
      expect(JSON.parse(lines.at(-2) ?? '{}')).toEqual({
        tools: ['greet'],
        builtin: ['orchestrate', 'assign_task', 'monitor_agents', 'aggregate_results', 'handle_failure', 'scale_agents'],
        valid: true,
        brokenValid: false,
        loadBroken: 'ORCH_SCHEMA',
        tool: 'hello api',
        unknownTool: ['ORCH_UNKNOWN_TOOL', 'did you mean `greet`?'],
        outcome: 'succeeded',
        output: 'hello again hello pkg',
        runs: [[true, 'succeeded']],
        state: 'succeeded',
        events: ['run_started', 'step_started', 'step_succeeded', 'step_started', 'step_succeeded', 'run_finished'],
        resumed: true,
        orchestrate: ['completed', 'succeeded', 'succeeded'],
        served: ['greet', 'hello'],
        call: [{ type: 'text', text: 'hello mcp' }],
        exitCode: null,
        signalHandlers: 0,
      });
      expect(readdirSync(path.join(project.dir, '.orch', 'runs'))).toHaveLength(1);
    } finally {
      project.cleanup();
      broken.cleanup();
    }
  });

  it('runs the README example against a project made by the installed bin', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Programmatic API'));
    const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toBeDefined();
    await sh(path.join(scratch, 'node_modules/.bin/orch'), ['init', 'etl', '--template', 'pipeline', '-q'], scratch);
    const r = await runScript('readme.mjs', example ?? '');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('etl succeeded');
  });
});
