import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());
const temp = (files: Record<string, string> = {}): string => {
  const p = tempProject(files);
  cleanup = p.cleanup;
  return p.dir;
};

describe('orch (global)', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = orch(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists the commands of the contract', () => {
    const r = orch(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['init', 'validate', 'run', 'scale', 'status', 'runs', 'logs', 'approve', 'reject', 'resume', 'serve', 'mcp', 'graph']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('loads what the command uses: a script tool with no MCP server or model loads neither the MCP SDK nor the AI SDK', () => {
    const dir = temp({ 'gantz.yaml': 'tools:\n  hello:\n    script: { shell: "echo hi" }\n' });
    const log = path.join(dir, 'modules.log');
    const moduleLog = fileURLToPath(new URL('../fixtures/module-log.mjs', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', moduleLog, BIN, 'run', 'hello'], { cwd: dir, env: { ...process.env, MODULE_LOG: log }, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('hi');
    // The packages whose code was loaded: by their own files, or in the CLI's bundle, whose
    // chunks name the package file each part comes from.
    const loaded = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((url) => (url.includes('/node_modules/') ? url : readFileSync(fileURLToPath(url), 'utf8')))
      .join('\n');
    const packages = new Set([...loaded.matchAll(/node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\//g)].map((m) => m[1] ?? ''));
    expect(packages).toContain('yaml'); // what the command does use is seen
    expect([...packages].filter((name) => /^(@modelcontextprotocol\/sdk|ai|@ai-sdk\/.*)$/.test(name))).toEqual([]);
  });

  it('an unknown command is a usage error with a suggestion', () => {
    const r = orch(['valdate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('validate');
  });
});

describe('orch init', () => {
  it('--list prints one template per line with a description', () => {
    const r = orch(['init', '--list']);
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(expect.arrayContaining(['orchestration-system', 'devops-team', 'pipeline', 'fan-out', 'gantz-tools']));
    for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/^\S+\s{2,}\S.+$/);
  });

  it('scaffolds a project that validates', () => {
    const dir = temp();
    const r = orch(['init', 'demo', '--template', 'devops-team'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('orch validate');
    const project = path.join(dir, 'demo');
    expect(readdirSync(project).sort()).toEqual(['RELEASE_NOTES.md', 'agent-team.yaml', 'cassettes', 'gantz.yaml', 'scripts']);
    const v = orch(['validate'], { cwd: project });
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('valid: gantz.yaml, agent-team.yaml');
  });

  it('refuses to overwrite a file and changes nothing', () => {
    const dir = temp({ 'gantz.yaml': 'name: mine\n', 'notes.txt': 'keep me\n' });
    const r = orch(['init', '.', '--template', 'orchestration-system'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ORCH_TARGET_NOT_EMPTY');
    expect(r.stderr).toContain('already has gantz.yaml');
    expect(r.stderr).toContain('--force');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(path.join(dir, 'gantz.yaml'), 'utf8')).toBe('name: mine\n');
    expect(readdirSync(dir).sort()).toEqual(['gantz.yaml', 'notes.txt']);
  });

  it('writes into a folder holding other files, such as a .mcp.json', () => {
    const dir = temp({ '.mcp.json': '{"mcpServers": {}}\n' });
    const r = orch(['init', '--template', 'orchestration-system'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['.mcp.json', 'agent-team.yaml', 'gantz.yaml']);
    expect(readFileSync(path.join(dir, '.mcp.json'), 'utf8')).toBe('{"mcpServers": {}}\n');
    expect(orch(['validate'], { cwd: dir }).code).toBe(0);
  });

  it('--force writes over files of the same name and keeps the others', () => {
    const dir = temp({ 'gantz.yaml': 'name: mine\n', 'notes.txt': 'keep me\n' });
    const r = orch(['init', '--template', 'orchestration-system', '--force'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, 'gantz.yaml'), 'utf8')).toContain('orchestration.scale_agents');
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('keep me\n');
  });

  it('an unknown template suggests the closest name', () => {
    const dir = temp();
    const r = orch(['init', 'x', '--template', 'fanout'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean `fan-out`?');
    expect(existsSync(path.join(dir, 'x'))).toBe(false);
  });
});

describe('orch run flags', () => {
  it("a tool's parameter named like a global flag is the tool's, after the tool's name", () => {
    const dir = temp({
      'gantz.yaml': 'tools:\n  show:\n    parameters:\n      version: { type: string }\n      json: { type: boolean }\n    script:\n      command: echo\n      args: ["v={{version}}", "j={{json}}"]\n',
    });
    const r = orch(['run', 'show', '--version', '1.2.3', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('v=1.2.3 j=true');
    // Before the name, they are orch's own.
    const g = orch(['--json', 'run', 'show', '--version', '2'], { cwd: dir });
    expect(JSON.parse(g.stdout)).toBe('v=2 j=');
    // The project can be chosen on either side of the name, bundled short flags too.
    expect(orch(['run', 'show', '-C', dir, '--version', '3']).stdout.trim()).toBe('v=3 j=');
    expect(orch(['-qC', dir, 'run', 'show', '--version', '4']).stdout.trim()).toBe('v=4 j=');
  });
});

describe('orch validate', () => {
  it('prints file:line:col, the code, a code frame and a hint; exit 2', () => {
    const dir = temp({ 'agent-team.yaml': 'agents:\n  - role: a\n    model: m\nworkflows:\n  w:\n    - agent: a\n      action: x\n      gate: maybe\n' });
    const r = orch(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('agent-team.yaml:8:13 error ORCH_SCHEMA workflows.w[0].gate must be one of: approval_required, tests_must_pass');
    expect(r.stdout).toContain('  8 |       gate: maybe\n    |             ^^^^^');
  });

  it('--json prints {ok, issues} and nothing else on stdout', () => {
    const dir = temp({ 'gantz.yaml': 'tools:\n  a:\n    handler: nowhere.fn\n' });
    const r = orch(['validate', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as { ok: boolean; issues: Record<string, unknown>[] };
    expect(report.ok).toBe(false);
    expect(report.issues).toEqual([
      {
        severity: 'error',
        code: 'ORCH_HANDLER_NOT_FOUND',
        message: 'handler module `nowhere` not found',
        file: 'gantz.yaml',
        line: 3,
        column: 14,
        path: 'tools.a.handler',
        hint: expect.stringContaining('handlers/nowhere.ts'),
      },
    ]);
  });

  it('-C, --config and --team pick the project and its files', () => {
    const dir = temp({ 'conf/tools.yaml': 'tools:\n  t: { script: { command: "true" } }\n', 'conf/team.yaml': 'agents:\n  - role: a\n    tools: [t]\n' });
    const r = orch(['-C', path.join(dir, 'conf'), '--config', 'tools.yaml', '--team', 'team.yaml', 'validate', '--json']);
    expect(r.code).toBe(0);
    // The files picked are the ones whose names are listed.
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, issues: [], declared: { tools: ['t'], agents: ['a'], workflows: [], servers: [] }, builtin_tools: expect.any(Array) });
  });

  it('a directory without config says how to start', () => {
    const r = orch(['validate'], { cwd: temp() });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('ORCH_NO_CONFIG');
    expect(r.stdout).toContain('orch init');
  });

  it('bad bytes never produce a stack trace', () => {
    const dir = temp();
    writeFileSync(path.join(dir, 'gantz.yaml'), Buffer.from([0, 1, 2, 255, 254, 0x0a, 0x3a, 0x3a]));
    const r = orch(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toContain('gantz.yaml error ORCH_FILE_BINARY');
  });
});
