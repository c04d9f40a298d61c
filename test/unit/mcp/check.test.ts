import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { McpServerDef, Project } from '../../../src/config/model.js';
import { checkServerTools } from '../../../src/mcp/check.js';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { FAST_POLICY, FILESYSTEM, MEMORY, ProcessWatch, fixture, stdioServer, tempDir } from './helpers.js';

const project = tempDir();
afterAll(() => project.cleanup());

function projectWith(servers: McpServerDef[]): Project {
  return {
    dir: project.dir,
    files: {},
    tools: new Map(),
    servers: new Map(servers.map((s) => [s.name, s])),
    agents: new Map(),
    workflows: new Map(),
  };
}

const memory = stdioServer('memory', [MEMORY], { env: { MEMORY_FILE_PATH: path.join(project.dir, 'memory.jsonl') } });
const files = stdioServer('files', [FILESYSTEM, project.dir]);

describe('the servers from npm', () => {
  it('memory and filesystem servers answer through the supervisor', async () => {
    const watch = new ProcessWatch();
    writeFileSync(path.join(project.dir, 'note.txt'), 'hello from a file');
    const supervisor = new Supervisor([memory, files], { stateDir: path.join(project.dir, '.orch'), policy: FAST_POLICY });
    try {
      await supervisor.call('create_entities', { entities: [{ name: 'orch', entityType: 'tool', observations: ['supervises'] }] });
      const graph = await supervisor.call('memory.read_graph', {});
      expect(JSON.stringify(graph.content)).toContain('supervises');
      const text = await supervisor.call('read_text_file', { path: path.join(project.dir, 'note.txt') });
      watch.snapshot();
      expect(text.content).toEqual([{ type: 'text', text: 'hello from a file' }]);
    } finally {
      await supervisor.shutdown();
    }
    expect(watch.count).toBeGreaterThanOrEqual(2);
    expect(watch.leftovers()).toEqual([]);
  });
});

describe('checkServerTools (validate --connect)', () => {
  it('reports tools no server provides and servers that do not start, then ends them all', async () => {
    const watch = new ProcessWatch();
    const broken = fixture('broken', 'silent.mjs', { startupTimeoutMs: 1500, origin: { file: path.join(project.dir, '.mcp.json'), path: ['mcpServers', 'broken'] } });
    const at = { file: 'agent-team.yaml', line: 4, column: 12 };
    const supervisor = new Supervisor([memory, broken], { stateDir: path.join(project.dir, '.orch'), policy: FAST_POLICY });
    const check = checkServerTools(supervisor, projectWith([memory, broken]), [
      { name: 'read_graph', ...at },
      { name: 'memory.search_nodes', ...at },
      { name: 'memory.fly', ...at, path: 'agents[0].tools[2]' },
      { name: 'broken.anything', ...at },
      { name: 'teleport', ...at },
    ]);
    for (let i = 0; i < 100 && watch.snapshot().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const issues = await check.finally(() => supervisor.shutdown());
    expect(issues.map((i) => [i.code, i.file, i.path ?? null])).toEqual([
      ['ORCH_SERVER_START', '.mcp.json', 'mcpServers.broken'],
      ['ORCH_TOOL_NOT_PROVIDED', 'agent-team.yaml', 'agents[0].tools[2]'],
      ['ORCH_TOOL_NOT_PROVIDED', 'agent-team.yaml', null],
    ]);
    expect(issues[1]).toMatchObject({ severity: 'error', line: 4, column: 12, message: expect.stringContaining('"memory.fly"') });
    expect(issues[2]?.message).toContain('(not started: broken)');
    expect(watch.count).toBeGreaterThanOrEqual(2);
    expect(watch.leftovers()).toEqual([]);
  });
});
