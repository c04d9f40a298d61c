import { createRequire } from 'node:module';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';

const require = createRequire(import.meta.url);
const conformance = require.resolve('@modelcontextprotocol/conformance/dist/index.js');
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

/**
 * A project declaring the conformance suite's fixture tools and prompt with what orch
 * offers: scripts, a module handler that logs, tools forwarded to the everything server
 * (an image, a long operation with progress), an agent's system prompt, a workflow whose
 * gate asks the client (elicitation).
 */
const GANTZ = `
name: conformance-fixture
tools:
  test_simple_text:
    description: Returns a simple text
    script: { shell: 'printf "This is a simple text response for testing."' }
  test_error_handling:
    description: Always fails
    script: { shell: 'echo "This tool intentionally returns an error for testing" >&2; exit 1' }
  test_image_content:
    description: Returns an image (the everything server's tiny image)
    mcp: { server: everything, tool: get-tiny-image }
  test_tool_with_progress:
    # The everything server's last progress notification comes after its result, so 5 steps give the suite's 3.
    description: Reports progress (the everything server's long operation)
    parameters:
      duration: { type: number, default: 1 }
      steps: { type: number, default: 5 }
    mcp: { server: everything, tool: trigger-long-running-operation }
  test_tool_with_logging:
    description: Logs three messages
    handler: logging.run
mcpServers:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
`;
const TEAM = `
agents:
  - role: test_simple_prompt
    description: A simple prompt
    system_prompt: This is a simple prompt for testing.
  - role: fixture
    tools: [test_simple_text]
workflows:
  # A gate of a served workflow asks the client through elicitation.
  test_elicitation:
    inputs:
      message: { type: string }
    steps:
      - { id: confirm, agent: fixture, action: test_simple_text, gate: { type: approval_required, when: before } }
`;
const HANDLER = `const pause = () => new Promise((r) => setTimeout(r, 50));
export async function run(params, ctx) {
  ctx.logger.info('Tool execution started');
  await pause();
  ctx.logger.info('Tool processing data');
  await pause();
  ctx.logger.info('Tool execution completed');
  return 'done';
}
`;

let project: { dir: string; cleanup: () => void };
let orch: ResultPromise<{ reject: false; stdin: 'ignore'; buffer: false }>;
let url: URL;

beforeAll(async () => {
  project = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM, 'handlers/logging.mjs': HANDLER });
  orch = execa(process.execPath, [BIN, '-C', project.dir, 'serve', '--http', '0'], { reject: false, stdin: 'ignore', buffer: false });
  url = await new Promise<URL>((resolve, reject) => {
    let seen = '';
    orch.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = / at (http:\/\/\S+\/mcp)/.exec(seen);
      if (found?.[1]) resolve(new URL(found[1]));
    });
    void orch.then(() => reject(new Error(`orch serve ended early: ${seen}`)));
  });
});

afterAll(async () => {
  orch.kill('SIGTERM');
  await orch;
  project.cleanup();
});

// Every server scenario that applies to what orch serves. Left out: completions, sampling,
// elicitation with the suite's own schemas (SEP-1034 defaults, SEP-1330 enums), audio, embedded resources and mixed content, fixed `test://`
// resources and subscriptions, prompts with the suite's own arguments or media, and
// JSON Schema 2020-12 keywords (orch builds input schemas from declared parameters).
describe('the MCP conformance suite against orch serve --http', () => {
  it.each([
    'server-initialize',
    'logging-set-level',
    'ping',
    'tools-list',
    'tools-call-simple-text',
    'tools-call-image',
    'tools-call-with-logging',
    'tools-call-error',
    'tools-call-with-progress',
    'tools-call-elicitation',
    'server-sse-multiple-streams',
    'resources-list',
    'prompts-list',
    'prompts-get-simple',
    'dns-rebinding-protection',
  ])('passes %s', async (scenario) => {
    const run = await execa(process.execPath, [conformance, 'server', '--url', url.href, '--scenario', scenario], { reject: false });
    if (!/Passed: ([1-9]\d*)\/\1, 0 failed/.test(run.stdout)) console.log(run.stdout.slice(-3000));
    expect(run.stdout).toMatch(/Passed: ([1-9]\d*)\/\1, 0 failed/);
    expect(run.exitCode).toBe(0);
  });
});
