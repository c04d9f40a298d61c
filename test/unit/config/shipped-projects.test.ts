import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectProject } from '../../../src/config/load.js';
import { tempProject } from '../../helpers/project.js';
import { seedAgentTeamYaml, seedGantzYaml, seedMcpJson } from '../../helpers/seeds.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dirsIn = (parent: string): string[] =>
  readdirSync(path.join(root, parent), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(parent, e.name));

/** Examples that reference secrets get placeholder values, as a user's shell would. */
const exampleEnv = { ...process.env, GITHUB_TOKEN: 'ghp_example', DB_PASSWORD: 'example' };

describe('shipped templates and examples', () => {
  it.each([...dirsIn('templates'), ...dirsIn('examples')])('%s validates with no errors', async (dir) => {
    const { project, issues } = await inspectProject({ dir: path.join(root, dir), env: exampleEnv });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(project).toBeDefined();
  });

  it('every template declares something to run', async () => {
    for (const dir of dirsIn('templates')) {
      const { project } = await inspectProject({ dir: path.join(root, dir) });
      expect(project?.tools.size, dir).toBeGreaterThan(0);
    }
  });
});

describe('the seed documents', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it("the orchestration seed's gantz.yaml validates cleanly, on the built-in handlers", async () => {
    const p = tempProject({ 'gantz.yaml': seedGantzYaml() });
    cleanup = p.cleanup;
    const { project, issues } = await inspectProject({ dir: p.dir });
    expect(issues).toEqual([]);
    expect([...(project?.tools.keys() ?? [])]).toEqual([
      'orchestrate',
      'assign_task',
      'monitor_agents',
      'aggregate_results',
      'handle_failure',
      'scale_agents',
    ]);
    expect(project?.tools.get('scale_agents')?.handler).toEqual({ kind: 'module', module: 'orchestration', fn: 'scale_agents' });
    expect(project?.tools.get('orchestrate')?.inputSchema.required).toEqual(['task']);
  });

  it("the guide's agent-team.yaml with its servers as .mcp.json validates when the variables are set", async () => {
    const p = tempProject({ 'agent-team.yaml': seedAgentTeamYaml(), '.mcp.json': seedMcpJson() });
    cleanup = p.cleanup;
    const env = { HOME: '/home/ops', GITHUB_TOKEN: 'ghp_secret', DB_PASSWORD: 's3cret' };
    const { project, issues } = await inspectProject({ dir: p.dir, env });
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    // Its agents' tools can only come from the servers, which static validation cannot see.
    expect(new Set(issues.map((i) => i.code))).toEqual(new Set(['ORCH_TOOL_UNVERIFIED']));
    expect(project?.agents.size).toBe(4);
    expect(project?.workflows.get('deploy_request')?.steps.map((s) => s.id)).toEqual([
      'review_changes',
      'deploy_to_staging',
      'run_smoke_tests',
      'deploy_to_production',
      'notify_team',
    ]);
    expect(project?.servers.get('github')?.env).toEqual({ GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_secret' });
    expect(project?.servers.get('kubernetes')?.env.KUBECONFIG).toBe('/home/ops/.kube/config');
    expect(project?.servers.get('postgres')?.args.at(-1)).toBe('postgresql://readonly:s3cret@db.internal:5432/production');
  });

  it("the guide's servers name each unset variable with its file and line", async () => {
    const p = tempProject({ 'agent-team.yaml': seedAgentTeamYaml(), '.mcp.json': seedMcpJson() });
    cleanup = p.cleanup;
    const { serverIssues } = await inspectProject({ dir: p.dir, env: { HOME: '/home/ops' } });
    const unset = serverIssues.filter((i) => i.code === 'ORCH_ENV_UNSET');
    expect(unset.map((i) => [i.file, i.line, /`(\w+)`/.exec(i.message)?.[1]])).toEqual([
      ['.mcp.json', 7, 'GITHUB_TOKEN'],
      ['.mcp.json', 22, 'DB_PASSWORD'],
    ]);
  });

  it('a JSON file with the servers is read with positions too', async () => {
    const p = tempProject({ 'agent-team.yaml': seedAgentTeamYaml() });
    cleanup = p.cleanup;
    writeFileSync(path.join(p.dir, '.mcp.json'), '{"mcpServers": {"x": {"command": 42}}}');
    const { serverIssues } = await inspectProject({ dir: p.dir });
    expect(serverIssues).toMatchObject([{ code: 'ORCH_SCHEMA', file: '.mcp.json', line: 1, column: 34, message: 'mcpServers.x.command must be a string, found number 42' }]);
  });
});
