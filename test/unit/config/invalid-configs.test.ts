import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { validateProject } from '../../../src/mcp/validate.js';
import { tempProject, type ProjectFiles } from '../../helpers/project.js';

interface Expected {
  code: string;
  file: string;
  line?: number;
  column?: number;
  severity?: 'error' | 'warning';
  /** Substrings the message must contain. */
  message?: string;
  hint?: string;
}

interface Case {
  name: string;
  files: ProjectFiles;
  env?: NodeJS.ProcessEnv;
  expected: Expected[];
}

const agentTeam = (workflowSteps: string, agents = '  - role: worker\n    tools: [echo]\n'): string =>
  `agents:\n${agents}workflows:\n  main:\n${workflowSteps}`;
const echoTool = 'tools:\n  echo:\n    parameters:\n      text: { type: string }\n    script:\n      command: echo\n      args: ["{{text}}"]\n';

const cases: Case[] = [
  {
    name: 'YAML syntax error',
    files: { 'gantz.yaml': 'tools:\n  a: [1, 2\n' },
    expected: [{ code: 'ORCH_YAML_SYNTAX', file: 'gantz.yaml', line: 2 }],
  },
  {
    name: 'duplicate key',
    files: { 'gantz.yaml': 'name: a\nversion: 1\nname: b\n' },
    expected: [{ code: 'ORCH_YAML_DUPLICATE_KEY', file: 'gantz.yaml', line: 3, column: 1 }],
  },
  {
    name: 'tab indentation',
    files: { 'gantz.yaml': 'tools:\n\tfoo:\n\t\thandler: a.b\n' },
    expected: [{ code: 'ORCH_YAML_SYNTAX', file: 'gantz.yaml', line: 2, hint: 'tabs' }],
  },
  {
    name: 'empty file',
    files: { 'gantz.yaml': '' },
    expected: [{ code: 'ORCH_FILE_EMPTY', file: 'gantz.yaml' }],
  },
  {
    name: 'comments only',
    files: { 'agent-team.yaml': '# nothing here yet\n' },
    expected: [{ code: 'ORCH_FILE_EMPTY', file: 'agent-team.yaml' }],
  },
  {
    name: 'top level is a list',
    files: { 'gantz.yaml': '- a\n- b\n' },
    expected: [{ code: 'ORCH_SCHEMA', file: 'gantz.yaml', line: 1, column: 1, message: 'must be a mapping' }],
  },
  {
    name: 'misspelt top-level key',
    files: { 'gantz.yaml': 'name: x\ntool:\n  a: { handler: orchestration.scale_agents }\n' },
    expected: [{ code: 'ORCH_SCHEMA', file: 'gantz.yaml', line: 2, column: 1, message: 'unknown key `tool`', hint: 'did you mean `tools`?' }],
  },
  {
    name: 'unknown parameter type',
    files: { 'gantz.yaml': 'tools:\n  a:\n    parameters:\n      n: { type: strng }\n    handler: orchestration.scale_agents\n' },
    expected: [{ code: 'ORCH_SCHEMA', file: 'gantz.yaml', line: 4, column: 18, message: 'tools.a.parameters.n.type must be one of', hint: 'did you mean `string`?' }],
  },
  {
    name: 'unknown gate',
    files: {
      'gantz.yaml': echoTool,
      'agent-team.yaml': agentTeam('    - agent: worker\n      action: echo\n      gate: aproval_required\n'),
    },
    expected: [{ code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 8, column: 13, message: 'workflows.main[0].gate', hint: 'did you mean `approval_required`?' }],
  },
  {
    name: 'step without an agent',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - action: echo\n') },
    expected: [{ code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 6, message: 'missing required key `agent`' }],
  },
  {
    name: 'several schema errors in one pass',
    files: { 'agent-team.yaml': 'team: { name: t, coordination: starr }\nagents:\n  - rolle: a\n  - role: b\n    count: -1\n' },
    expected: [
      { code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 1, message: 'team.coordination' },
      { code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 3, message: 'unknown key `rolle`', hint: 'did you mean `role`?' },
      { code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 3, message: 'missing required key `role`' },
      { code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 5, message: 'agents[1].count' },
    ],
  },
  {
    name: 'one pass: a schema error in one file, rule errors in the other',
    files: {
      'gantz.yaml': `${echoTool}bogus: 1\n`,
      'agent-team.yaml': agentTeam('    - { id: a, agent: worker, action: echo, needs: [zz] }\n    - { id: b, agent: wroker, action: echo }\n'),
    },
    // Nothing is said about the action `echo`: its tool is in the file that failed.
    expected: [
      { code: 'ORCH_SCHEMA', file: 'gantz.yaml', line: 8, message: 'unknown key `bogus`' },
      { code: 'ORCH_UNKNOWN_STEP', file: 'agent-team.yaml', line: 6 },
      { code: 'ORCH_UNKNOWN_AGENT', file: 'agent-team.yaml', line: 7 },
    ],
  },
  {
    name: 'step names an unknown agent',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: wroker\n      action: echo\n') },
    expected: [{ code: 'ORCH_UNKNOWN_AGENT', file: 'agent-team.yaml', line: 6, column: 14, hint: 'did you mean `worker`?' }],
  },
  {
    name: 'action that is neither a usable tool nor an LLM task',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: ecoh\n') },
    expected: [{ code: 'ORCH_UNRESOLVED_ACTION', file: 'agent-team.yaml', line: 7, column: 15, hint: 'did you mean `echo`?' }],
  },
  {
    name: 'an agent with a model may take any action',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: summarise the news\n', '  - role: worker\n    model: claude-sonnet-4-20250514\n    tools: [echo]\n') },
    expected: [],
  },
  {
    name: 'needs an unknown step',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - { id: a, agent: worker, action: echo }\n    - { id: b, agent: worker, action: echo, needs: [c] }\n') },
    expected: [{ code: 'ORCH_UNKNOWN_STEP', file: 'agent-team.yaml', line: 7, message: 'needs unknown step `c`' }],
  },
  {
    name: 'cyclic needs',
    files: {
      'gantz.yaml': echoTool,
      'agent-team.yaml': agentTeam('    - { id: a, agent: worker, action: echo, needs: [c] }\n    - { id: b, agent: worker, action: echo, needs: [a] }\n    - { id: c, agent: worker, action: echo, needs: [b] }\n'),
    },
    expected: [{ code: 'ORCH_CYCLE', file: 'agent-team.yaml', line: 6, message: 'a → c → b → a' }],
  },
  {
    name: 'duplicate step ids',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - { id: a, agent: worker, action: echo }\n    - { id: a, agent: worker, action: echo }\n') },
    expected: [{ code: 'ORCH_DUPLICATE_STEP', file: 'agent-team.yaml', line: 7, message: 'already used by step 1' }],
  },
  {
    name: 'handler module that does not exist',
    files: { 'gantz.yaml': 'tools:\n  a:\n    handler: billing.charge\n' },
    expected: [{ code: 'ORCH_HANDLER_NOT_FOUND', file: 'gantz.yaml', line: 3, column: 14, hint: 'handlers/billing.ts' }],
  },
  {
    name: 'handler module that exists',
    files: { 'gantz.yaml': 'tools:\n  a:\n    handler: billing.charge\n', 'handlers/billing.mjs': 'export function charge() { return 1; }\n' },
    expected: [],
  },
  {
    name: 'misspelt built-in orchestration handler',
    files: { 'gantz.yaml': 'tools:\n  a:\n    handler: orchestration.scale_agent\n' },
    expected: [{ code: 'ORCH_UNKNOWN_HANDLER', file: 'gantz.yaml', line: 3, hint: 'orchestration.scale_agents' }],
  },
  {
    name: 'malformed handler string',
    files: { 'gantz.yaml': 'tools:\n  a:\n    handler: just-a-name\n' },
    expected: [{ code: 'ORCH_SCHEMA', file: 'gantz.yaml', line: 3, message: '`<module>.<function>`' }],
  },
  {
    name: 'tool without a handler',
    files: { 'gantz.yaml': 'tools:\n  a:\n    description: nothing to run\n' },
    expected: [{ code: 'ORCH_NO_HANDLER', file: 'gantz.yaml', line: 2, column: 3 }],
  },
  {
    name: 'tool with two handler kinds',
    files: { 'gantz.yaml': 'tools:\n  - name: a\n    script: { command: echo }\n    http: { url: "http://127.0.0.1/" }\n' },
    expected: [{ code: 'ORCH_HANDLER_CONFLICT', file: 'gantz.yaml', line: 4, column: 5 }],
  },
  {
    name: 'script with both shell and command',
    files: { 'gantz.yaml': 'tools:\n  - name: a\n    script: { command: echo, shell: "echo hi" }\n' },
    expected: [{ code: 'ORCH_SCRIPT_COMMAND', file: 'gantz.yaml', line: 3 }],
  },
  {
    name: 'duplicate tool names in the list dialect',
    files: { 'gantz.yaml': 'tools:\n  - name: a\n    script: { command: "true" }\n  - name: a\n    script: { command: "true" }\n' },
    expected: [{ code: 'ORCH_DUPLICATE_TOOL', file: 'gantz.yaml', line: 4, column: 11 }],
  },
  {
    name: 'placeholder naming no parameter',
    files: { 'gantz.yaml': 'tools:\n  - name: greet\n    parameters:\n      - { name: who }\n    script:\n      shell: echo hello {{whom}}\n' },
    expected: [{ code: 'ORCH_UNKNOWN_PARAM', file: 'gantz.yaml', line: 6, hint: 'did you mean `{{who}}`?' }],
  },
  {
    name: 'braces that are not placeholders are left alone',
    files: { 'gantz.yaml': "tools:\n  - name: status\n    parameters:\n      - { name: name }\n    script:\n      shell: docker inspect --format '{{json .State}}' {{name}} | awk '{{print $1}}'\n" },
    expected: [],
  },
  {
    name: 'bad duration',
    files: { 'gantz.yaml': 'tools:\n  - name: a\n    script: { command: sleep, timeout: 5 minutes }\n' },
    expected: [{ code: 'ORCH_SCHEMA', file: 'gantz.yaml', line: 3, message: 'must be a duration like' }],
  },
  {
    name: 'unset environment variable',
    files: { '.mcp.json': '{\n  "mcpServers": {\n    "gh": {\n      "command": "gh-mcp",\n      "env": { "GITHUB_TOKEN": "${ORCH_TEST_UNSET_TOKEN}" }\n    }\n  }\n}\n', 'gantz.yaml': echoTool },
    env: {},
    expected: [{ code: 'ORCH_ENV_UNSET', file: '.mcp.json', line: 5, message: '`ORCH_TEST_UNSET_TOKEN`' }],
  },
  {
    name: 'unset variable with a default',
    files: { 'gantz.yaml': `${echoTool}mcpServers:\n  s: { command: "\${ORCH_TEST_BIN:-node}", args: ["--version"] }\n` },
    env: {},
    expected: [],
  },
  {
    name: 'server with neither command nor url',
    files: { 'gantz.yaml': `${echoTool}mcpServers:\n  s: { args: [x] }\n` },
    expected: [{ code: 'ORCH_SERVER_TRANSPORT', file: 'gantz.yaml', line: 9, column: 3 }],
  },
  {
    name: 'server declared in two files',
    files: { 'gantz.yaml': `${echoTool}mcpServers:\n  s: { command: node }\n`, '.mcp.json': '{"mcpServers": {"s": {"command": "node"}}}' },
    expected: [{ code: 'ORCH_DUPLICATE_SERVER', file: '.mcp.json', line: 1, message: 'already declared in gantz.yaml' }],
  },
  {
    name: 'unknown keys in .mcp.json are only warnings',
    files: { 'gantz.yaml': echoTool, '.mcp.json': '{"mcpServers": {"s": {"command": "node", "autoApprove": []}}}' },
    expected: [{ code: 'ORCH_UNKNOWN_KEY', file: '.mcp.json', line: 1, severity: 'warning' }],
  },
  {
    name: '.mcp.json with single quotes',
    files: { '.mcp.json': "{\n  'mcpServers': {}\n}\n" },
    expected: [{ code: 'ORCH_JSON_SYNTAX', file: '.mcp.json', line: 2, column: 3, hint: 'double quotes' }],
  },
  {
    name: '.mcp.json with a bare word',
    files: { '.mcp.json': '{"mcpServers": {"s": {"command": node}}}' },
    expected: [{ code: 'ORCH_JSON_SYNTAX', file: '.mcp.json', line: 1, column: 34 }],
  },
  {
    name: '.mcp.json with an unclosed object',
    files: { '.mcp.json': '{"mcpServers": {"s": {"command": "node"}}\n' },
    expected: [{ code: 'ORCH_JSON_SYNTAX', file: '.mcp.json', line: 1, message: '"}"' }],
  },
  {
    name: '.mcp.json with comments and trailing commas, as VS Code and Claude Code write it',
    files: { '.mcp.json': '{\n  // the servers\n  "mcpServers": {\n    /* local */ "s": {"command": "node", "args": ["-v",],},\n  },\n}\n' },
    expected: [],
  },
  {
    name: '.mcp.json with a key twice',
    files: { '.mcp.json': '{"mcpServers": {"s": {"command": "a", "command": "b"}}}' },
    expected: [{ code: 'ORCH_JSON_DUPLICATE_KEY', file: '.mcp.json', line: 1, column: 39 }],
  },
  {
    name: 'empty .mcp.json',
    files: { '.mcp.json': '// nothing yet\n' },
    expected: [{ code: 'ORCH_FILE_EMPTY', file: '.mcp.json' }],
  },
  {
    name: 'misspelt top-level key of .mcp.json',
    files: { '.mcp.json': '{\n  "mcpservers": {"s": {"command": "node"}}\n}\n' },
    expected: [{ code: 'ORCH_UNKNOWN_KEY', file: '.mcp.json', line: 2, column: 3, severity: 'warning', hint: 'did you mean `mcpServers`?' }],
  },
  {
    name: "VS Code's input prompt",
    files: { '.mcp.json': '{"servers": {"s": {"command": "node", "env": {"KEY": "${input:api-key}"}}}, "inputs": [{"id": "api-key"}]}' },
    expected: [{ code: 'ORCH_ENV_INPUT', file: '.mcp.json', line: 1, message: 'no input prompts', hint: '${env:API_KEY}' }],
  },
  {
    name: "VS Code's folder variables",
    files: { '.mcp.json': '{"servers": {"s": {"command": "node", "args": ["${workspaceFolder}/x", "${userHome}"], "env": {"P": "${env:PATH}"}}}}' },
    expected: [],
  },
  {
    name: 'a transport type that does not match the server',
    files: { '.mcp.json': '{"mcpServers": {"s": {"type": "sse", "command": "node"}, "t": {"type": "streamableHttp", "url": "http://127.0.0.1:1/mcp"}}}' },
    expected: [{ code: 'ORCH_SERVER_TRANSPORT', file: '.mcp.json', line: 1, column: 31 }],
  },
  {
    name: 'a disabled server is not checked',
    files: { '.mcp.json': '{"mcpServers": {"off": {"command": "x", "args": ["${ORCH_TEST_UNSET_X}"], "disabled": true}}}' },
    env: {},
    expected: [],
  },
  {
    name: 'a tool forwarding to a disabled server',
    files: { 'gantz.yaml': 'tools:\n  a:\n    handler: mcp:off/read\n', '.mcp.json': '{"mcpServers": {"off": {"command": "x", "disabled": true}}}' },
    expected: [{ code: 'ORCH_SERVER_DISABLED', file: 'gantz.yaml', line: 3, severity: 'warning' }],
  },
  {
    name: 'forward to an unknown server',
    files: { 'gantz.yaml': 'tools:\n  a:\n    handler: mcp:nowhere/read\n' },
    expected: [{ code: 'ORCH_UNKNOWN_SERVER', file: 'gantz.yaml', line: 3 }],
  },
  {
    name: 'serve.expose names an unknown server',
    files: { 'gantz.yaml': 'tools:\n  t:\n    script: { shell: echo }\nserve:\n  expose: [memry]\nmcpServers:\n  memory: { command: node }\n' },
    expected: [{ code: 'ORCH_UNKNOWN_SERVER', file: 'gantz.yaml', line: 5, column: 12, hint: 'did you mean `memory`?' }],
  },
  {
    name: 'a remote A2A agent with a model',
    files: { 'agent-team.yaml': 'agents:\n  - role: r\n    a2a: http://127.0.0.1:4100\n    model: claude-sonnet-4-5\n' },
    expected: [{ code: 'ORCH_A2A_AGENT', file: 'agent-team.yaml', line: 4, column: 5 }],
  },
  {
    name: 'headers without a2a',
    files: { 'agent-team.yaml': 'agents:\n  - role: r\n    headers: { a: b }\n' },
    expected: [{ code: 'ORCH_A2A_AGENT', file: 'agent-team.yaml', line: 3, column: 5 }],
  },
  {
    name: 'an a2a URL that is no URL',
    files: { 'agent-team.yaml': 'agents:\n  - role: r\n    a2a: ftp://x\n' },
    expected: [{ code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 3 }],
  },
  {
    name: 'agent lists an unknown tool and there are no servers',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': 'agents:\n  - role: a\n    tools: [eccho]\n' },
    expected: [{ code: 'ORCH_UNKNOWN_TOOL', file: 'agent-team.yaml', line: 3, column: 13, hint: 'did you mean `echo`?' }],
  },
  {
    name: 'tool only a server could provide',
    files: { 'agent-team.yaml': 'agents:\n  - role: a\n    tools: [read_file]\nmcpServers:\n  fs: { command: node }\n' },
    expected: [{ code: 'ORCH_TOOL_UNVERIFIED', file: 'agent-team.yaml', line: 3, severity: 'warning' }],
  },
  {
    name: 'tests_must_pass asked before the step',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: echo\n      gate: { type: tests_must_pass, when: before }\n') },
    expected: [{ code: 'ORCH_GATE_WHEN', file: 'agent-team.yaml', line: 8 }],
  },
  {
    name: 'expression naming an undeclared input',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: echo\n      with: { text: "${{ inputs.nmae }}" }\n') },
    expected: [{ code: 'ORCH_UNKNOWN_INPUT', file: 'agent-team.yaml', line: 8, message: '`inputs.nmae`' }],
  },
  {
    name: 'an expression that does not parse',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: echo\n      if: "${{ inputs. }}"\n') },
    expected: [{ code: 'ORCH_EXPRESSION', file: 'agent-team.yaml', line: 8 }],
  },
  {
    name: 'an expression that is never closed',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: echo\n      with: { text: "hello ${{ inputs.name" }\n') },
    expected: [{ code: 'ORCH_EXPRESSION', file: 'agent-team.yaml', line: 8, message: 'not closed' }],
  },
  {
    name: 'an unclosed expression after a closed one, in if:',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: echo\n      if: "${{ true }} && ${{ false"\n') },
    expected: [{ code: 'ORCH_EXPRESSION', file: 'agent-team.yaml', line: 8, message: 'not closed' }],
  },
  {
    name: 'reading the output of a step that does not run first',
    files: {
      'gantz.yaml': echoTool,
      'agent-team.yaml': agentTeam('    - { id: a, agent: worker, action: echo, needs: [], with: { text: "${{ steps.b.output }}" } }\n    - { id: b, agent: worker, action: echo, needs: [] }\n'),
    },
    expected: [{ code: 'ORCH_STEP_NOT_UPSTREAM', file: 'agent-team.yaml', line: 6, hint: 'add `b` to the `needs` of `a`' }],
  },
  {
    name: 'arguments that are not the tool\'s parameters',
    files: { 'gantz.yaml': echoTool, 'agent-team.yaml': agentTeam('    - agent: worker\n      action: echo\n      with: { txt: hi }\n') },
    expected: [{ code: 'ORCH_UNKNOWN_PARAM', file: 'agent-team.yaml', line: 8, hint: 'did you mean `text`?' }],
  },
  {
    name: 'a required parameter not given, and one of the wrong type',
    files: {
      'gantz.yaml': 'tools:\n  add:\n    parameters:\n      a: { type: number, required: true }\n      b: { type: number, required: true }\n    script: { command: expr, args: ["{{a}}", "+", "{{b}}"] }\n',
      'agent-team.yaml': 'agents:\n  - role: w\nworkflows:\n  main:\n    - agent: w\n      action: add\n      with: { a: "two" }\n',
    },
    expected: [
      { code: 'ORCH_PARAM_TYPE', file: 'agent-team.yaml', line: 7, message: '`a` of tool `add` must be a number' },
      { code: 'ORCH_MISSING_PARAM', file: 'agent-team.yaml', line: 7, message: '`b`' },
    ],
  },
  {
    name: 'a tool with a broken handler is reported once, not again where it is used',
    files: {
      'gantz.yaml': 'tools:\n  t1:\n    handler: missing.fn\n',
      'agent-team.yaml': 'agents:\n  - role: a\n    tools: [t1]\nworkflows:\n  w:\n    - { agent: a, action: t1 }\n',
    },
    expected: [{ code: 'ORCH_HANDLER_NOT_FOUND', file: 'gantz.yaml', line: 3 }],
  },
  {
    name: 'binary garbage',
    files: { 'gantz.yaml': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe, 0x01]) },
    expected: [{ code: 'ORCH_FILE_BINARY', file: 'gantz.yaml' }],
  },
  {
    name: 'alias bomb',
    files: {
      'gantz.yaml': [
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        ...'bcdefghi'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
        'tools: *i',
      ].join('\n'),
    },
    expected: [{ code: 'ORCH_YAML_ALIAS', file: 'gantz.yaml', line: 10, column: 8, message: '435,848,050 values' }],
  },
  {
    name: 'alias without an anchor',
    files: { 'gantz.yaml': 'name: x\ntools:\n  a: *missing\n' },
    expected: [{ code: 'ORCH_YAML_SYNTAX', file: 'gantz.yaml', line: 3, column: 6, message: 'alias `*missing` names no anchor' }],
  },
  {
    name: 'file over the size limit',
    files: { 'gantz.yaml': `name: x\n${'# padding\n'.repeat(120_000)}` },
    expected: [{ code: 'ORCH_FILE_TOO_LARGE', file: 'gantz.yaml' }],
  },
  {
    name: 'nesting too deep to parse',
    files: { 'gantz.yaml': `tools: ${'['.repeat(5000)}${']'.repeat(5000)}\n` },
    expected: [{ code: 'ORCH_YAML_SYNTAX', file: 'gantz.yaml', line: 1, message: 'nested too deeply' }],
  },
];

// The CLI runs the build, whose schema validators are ajv's code compiled ahead of time
// (scripts/compile-schemas.mjs): the table holds for them as for the sources' own.
const BUILT = new URL('../../../dist/mcp/validate.js', import.meta.url).href;
const built = (await import(BUILT)) as typeof import('../../../src/mcp/validate.js');

it('the build validates with code compiled from the schemas ahead of time, not with an ajv that compiles them at start-up', () => {
  const validators = readFileSync(new URL('../../../dist/config/schema-validators.js', import.meta.url), 'utf8');
  expect(validators).toMatch(/export const gantz = validate\d+;/);
  expect(validators).not.toContain('schema-ajv');
});

describe.each([
  { from: 'the sources', validateProject },
  { from: 'the build', validateProject: built.validateProject },
])('invalid configurations, validated by $from', ({ validateProject }) => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it.each(cases)('$name', async ({ files, env, expected }) => {
    const project = tempProject(files);
    cleanup = project.cleanup;
    // What `orch validate` reports: the servers' own problems too.
    const { issues } = await validateProject({ dir: project.dir, env: env ?? { ...process.env } });
    // Each expected issue matches exactly one reported issue, in any order.
    const unmatched = [...issues];
    for (const want of expected) {
      const index = unmatched.findIndex(
        (got) =>
          got.code === want.code &&
          got.file === want.file &&
          got.severity === (want.severity ?? 'error') &&
          (want.line === undefined || got.line === want.line) &&
          (want.column === undefined || got.column === want.column) &&
          (want.message === undefined || got.message.includes(want.message)) &&
          (want.hint === undefined || (got.hint ?? '').includes(want.hint)),
      );
      expect(index, `no issue matches ${JSON.stringify(want)} in ${JSON.stringify(unmatched, null, 1)}`).toBeGreaterThanOrEqual(0);
      unmatched.splice(index, 1);
    }
    expect(unmatched).toEqual([]);
  });
});
