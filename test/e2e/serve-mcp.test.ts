import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { until } from '../helpers/workflow-project.js';
import { connectServe } from '../helpers/serve-client.js';
import { survivors } from '../unit/tools/process-helpers.js';

const require = createRequire(import.meta.url);
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const MEMORY = require.resolve('@modelcontextprotocol/server-memory/dist/index.js');

const GANTZ = `
name: mcp-fixture
version: 1.2.3
tools:
  bare:
    script: { shell: 'printf ok' }
  weather:
    description: The weather, forwarded
    parameters:
      location: { type: string, required: true }
    mcp: { server: everything, tool: get-structured-content }
  slow:
    description: A long operation, forwarded
    parameters:
      duration: { type: number }
      steps: { type: number }
    mcp: { server: everything, tool: trigger-long-running-operation }
  sleeper:
    description: Writes its pid, then sleeps
    parameters:
      pidfile: { type: string, required: true }
    script:
      shell: 'echo $$ > {{pidfile}}; exec sleep 30'
  chatty:
    description: Logs a line
    handler: chatty.run
mcpServers:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
  memory:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(MEMORY)}]
    env: { MEMORY_FILE_PATH: memory.jsonl }
    approval_required: [create_entities]
`;

const TEAM = `
agents:
  - role: worker
    tools: [bare, chatty]
  - role: writer
    description: Writes release notes
    model: claude-sonnet-4-5
    system_prompt: You write release notes.
workflows:
  two_steps:
    - { id: one, agent: worker, action: bare }
    - { id: two, agent: worker, action: bare }
  gated:
    - { id: ship, agent: worker, action: bare, gate: { type: approval_required, when: before } }
`;

const HANDLER = `export async function run(params, ctx) { ctx.logger.info('hello from chatty'); return 'done'; }\n`;

let project: { dir: string; cleanup: () => void };
let server: ResultPromise<{ reject: false; stdin: 'ignore'; buffer: false }>;
let url: URL;

beforeAll(async () => {
  project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM, 'handlers/chatty.mjs': HANDLER });
  server = execa(process.execPath, [BIN, '-C', project.dir, 'serve', '--http', '0', '--expose', 'everything,memory'], { reject: false, stdin: 'ignore', buffer: false });
  url = await new Promise<URL>((resolve, reject) => {
    let seen = '';
    server.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = / at (http:\/\/\S+\/mcp)/.exec(seen);
      if (found?.[1]) resolve(new URL(found[1]));
    });
    void server.then(() => reject(new Error(`orch serve ended early: ${seen}`)));
  });
});

afterAll(async () => {
  server.kill('SIGTERM');
  const result = await server;
  project.cleanup();
  expect(result.exitCode).toBe(143);
  expect(await survivors(server.pid === undefined ? [] : [server.pid])).toEqual([]);
});

async function connect(elicit?: (message: string) => { action: 'accept' | 'decline'; content?: Record<string, unknown> }): Promise<Client> {
  const client = new Client({ name: 'orch-e2e', version: '0.0.0' }, { capabilities: elicit ? { elicitation: {} } : {} });
  if (elicit) client.setRequestHandler(ElicitRequestSchema, (request) => elicit(request.params.message));
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

const text = (result: object): string => ('content' in result && Array.isArray(result.content) ? result.content : []).map((b: { text?: string }) => b.text ?? '').join('');

describe('orch serve as a complete MCP server', () => {
  it('gives every tool a description, and forwarded tools their output schema and structured content', async () => {
    const client = await connect();
    try {
      const { tools } = await client.listTools();
      expect(tools.find((t) => t.name === 'bare')?.description).toBe('bare');
      expect(tools.every((t) => typeof t.description === 'string' && t.description !== '')).toBe(true);
      expect(tools.find((t) => t.name === 'weather')?.outputSchema).toMatchObject({ properties: { temperature: { type: 'number' } } });
      const result = await client.callTool({ name: 'weather', arguments: { location: 'Chicago' } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ temperature: expect.any(Number), conditions: expect.any(String) });
    } finally {
      await client.close();
    }
  });

  it('relays progress: from an upstream server, and one per step of a workflow', async () => {
    const client = await connect();
    try {
      const upstream: Progress[] = [];
      await client.callTool({ name: 'slow', arguments: { duration: 1, steps: 2 } }, undefined, { onprogress: (p) => upstream.push(p) });
      expect(upstream.length).toBeGreaterThan(0);
      const steps: Progress[] = [];
      const result = await client.callTool({ name: 'two_steps', arguments: {} }, undefined, { onprogress: (p) => steps.push(p) });
      expect(result.isError).toBe(false);
      expect(steps.map((p) => p.message)).toEqual(['step one started', 'step one succeeded', 'step two started', 'step two succeeded']);
      expect(steps.at(-1)).toMatchObject({ progress: 2, total: 2 });
    } finally {
      await client.close();
    }
  });

  it('sends the tools\' messages as log notifications at the level the client set', async () => {
    const client = await connect();
    try {
      const lines: unknown[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void lines.push(n.params));
      await client.setLoggingLevel('info');
      await client.callTool({ name: 'chatty', arguments: {} });
      await until(() => lines.length > 0, 'a log notification');
      expect(lines).toContainEqual({ level: 'info', logger: 'chatty', data: 'hello from chatty' });
      lines.length = 0;
      await client.setLoggingLevel('error');
      await client.callTool({ name: 'chatty', arguments: {} });
      expect(lines).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('cancelling a call over HTTP ends the tool\'s process', async () => {
    const client = await connect();
    const pidfile = path.join(project.dir, 'sleeper.pid');
    try {
      const abort = new AbortController();
      const call = client.callTool({ name: 'sleeper', arguments: { pidfile } }, undefined, { signal: abort.signal }).catch((err: unknown) => err);
      await until(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '', 'the script to start');
      const pid = Number(readFileSync(pidfile, 'utf8').trim());
      abort.abort();
      await call;
      await until(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 'the cancelled script to end');
    } finally {
      await client.close();
    }
  });

  it('serves runs as resources and LLM agents\' system prompts as prompts', async () => {
    const client = await connect();
    try {
      const run = await client.callTool({ name: 'two_steps', arguments: {} });
      const runId = (run.structuredContent as { run_id: string }).run_id;
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining([`orch://runs/${runId}`, `orch://runs/${runId}/journal`]));
      const report = await client.readResource({ uri: `orch://runs/${runId}` });
      expect(JSON.parse(String((report.contents[0] as { text: string }).text))).toMatchObject({ run_id: runId, workflow: 'two_steps', status: 'succeeded' });
      const journal = await client.readResource({ uri: `orch://runs/${runId}/journal` });
      expect(String((journal.contents[0] as { text: string }).text).split('\n')[0]).toContain('"run_started"');
      await expect(client.readResource({ uri: 'orch://runs/nope' })).rejects.toThrow(/not a run id/);

      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name)).toEqual(['writer']);
      const prompt = await client.getPrompt({ name: 'writer', arguments: { task: 'notes for 1.2' } });
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'You write release notes.\n\nTask: notes for 1.2' });
    } finally {
      await client.close();
    }
  });

  it('asks the client about a gate through elicitation, and pauses without it', async () => {
    const asked: string[] = [];
    const yes = await connect((message) => (asked.push(message), { action: 'accept', content: { approve: true } }));
    try {
      const approved = await yes.callTool({ name: 'gated', arguments: {} });
      expect(approved.structuredContent).toMatchObject({ status: 'succeeded' });
      expect(asked[0]).toContain('Approve step `ship`');
      const runId = (approved.structuredContent as { run_id: string }).run_id;
      expect(orch(['-C', project.dir, 'logs', runId]).stdout).toContain('approved by mcp client via the serving client');
    } finally {
      await yes.close();
    }
    const no = await connect(() => ({ action: 'decline' }));
    try {
      const rejected = await no.callTool({ name: 'gated', arguments: {} });
      expect(rejected.structuredContent).toMatchObject({ status: 'failed' });
    } finally {
      await no.close();
    }
    const plain = await connect();
    try {
      const paused = await plain.callTool({ name: 'gated', arguments: {} });
      expect(paused.structuredContent).toMatchObject({ status: 'paused' });
    } finally {
      await plain.close();
    }
  });

  it('is a gateway to the exposed servers: their tools as server.tool, audited, approval_required asked', async () => {
    const client = await connect();
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['everything.echo', 'everything.get-sum', 'memory.read_graph', 'memory.create_entities']));
      const echo = await client.callTool({ name: 'everything.echo', arguments: { message: 'through orch' } });
      expect(text(echo)).toContain('through orch');
      const refused = await client.callTool({ name: 'memory.create_entities', arguments: { entities: [] } });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toContain('cannot be asked');
      await expect(client.callTool({ name: 'nope.tool', arguments: {} })).rejects.toThrow(/Unknown tool/);
    } finally {
      await client.close();
    }
    // The audit log is written behind the calls: wait for the gateway call's line.
    const line = /"server":"everything","tool":"everything.echo","kind":"server","arguments":\{"message":"through orch"\}/;
    await until(() => line.test(readFileSync(path.join(project.dir, '.orch', 'audit.jsonl'), 'utf8')), 'the gateway call\'s audit line');

    const approving = await connect(() => ({ action: 'accept', content: { approve: true } }));
    try {
      const created = await approving.callTool({ name: 'memory.create_entities', arguments: { entities: [{ name: 'orch', entityType: 'tool', observations: ['serves'] }] } });
      expect(created.isError).toBeFalsy();
      const graph = await approving.callTool({ name: 'memory.read_graph', arguments: {} });
      expect(text(graph)).toContain('orch');
    } finally {
      await approving.close();
    }
  });
});

describe('orch serve --expose in a project with only a .mcp.json', () => {
  it('re-serves the servers of the .mcp.json', async () => {
    const only = tempProject({ '.mcp.json': JSON.stringify({ mcpServers: { everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] } } }) });
    const serve = execa(process.execPath, [BIN, '-C', only.dir, 'serve', '--http', '0', '--expose', 'everything'], { reject: false, stdin: 'ignore', buffer: false });
    try {
      const at = await new Promise<URL>((resolve, reject) => {
        let seen = '';
        serve.stderr.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const found = / at (http:\/\/\S+\/mcp)/.exec(seen);
          if (found?.[1]) resolve(new URL(found[1]));
        });
        void serve.then(() => reject(new Error(`orch serve ended early: ${seen}`)));
      });
      const client = new Client({ name: 'orch-e2e', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(at));
      const sum = await client.callTool({ name: 'everything.get-sum', arguments: { a: 2, b: 3 } });
      expect(text(sum)).toContain('5');
      await client.close();
      const bad = orch(['-C', only.dir, 'serve', '--expose', 'everythin']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('ORCH_UNKNOWN_SERVER');
      expect(bad.stderr).toContain('everything');
    } finally {
      serve.kill('SIGTERM');
      await serve;
      only.cleanup();
    }
  });
});

describe('serve.expose in gantz.yaml', () => {
  it('re-serves the servers it names, over stdio too', async () => {
    const p = tempProject({
      'gantz.yaml': `
tools:
  bare:
    script: { shell: 'printf ok' }
serve:
  expose: [everything]
mcpServers:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
`,
    });
    const { client } = await connectServe(p.dir);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['bare', 'everything.echo']));
      expect(text(await client.callTool({ name: 'everything.echo', arguments: { message: 'stdio' } }))).toContain('stdio');
    } finally {
      await client.close();
      p.cleanup();
    }
  });
});
