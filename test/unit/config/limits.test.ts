import { afterEach, describe, expect, it } from 'vitest';
import { inspectProject } from '../../../src/config/load.js';
import { MAX_POOL_SIZE, MAX_TIMER_MS } from '../../../src/config/limits.js';
import { tempProject, type ProjectFiles } from '../../helpers/project.js';
import teamSchema from '../../../schemas/agent-team.schema.json' with { type: 'json' };

let cleanup = (): void => {};
afterEach(() => cleanup());

async function issuesOf(files: ProjectFiles) {
  const p = tempProject(files);
  cleanup = p.cleanup;
  // A server's own errors are set apart (they hold up only what starts it); validate reports both.
  const inspected = await inspectProject({ dir: p.dir });
  return [...inspected.issues, ...inspected.serverIssues].filter((i) => i.severity === 'error');
}

const script = (timeout: string) => `tools:\n  nap:\n    script:\n      shell: sleep 1\n      timeout: ${timeout}\n`;
const http = (timeout: string) => `tools:\n  get:\n    http:\n      method: GET\n      url: http://127.0.0.1:9/\n      timeout: ${timeout}\n`;
const team = (step: string, agent = '') => `agents:\n  - role: w\n    tools: [nap]\n${agent}workflows:\n  main:\n    - { id: a, agent: w, action: nap${step} }\n`;
const server = (entry: string) => `mcpServers:\n  s:\n    command: node\n${entry}tools:\n  nap:\n    script:\n      shell: sleep 1\n`;

describe('durations', () => {
  const tooLong = /must be at most 596h/;
  const zero = /must be more than 0: a zero timeout fails every call/;
  it.each([
    ['a script timeout of 0', { 'gantz.yaml': script('0') }, 'gantz.yaml', 5, zero],
    ['a script timeout of "0s"', { 'gantz.yaml': script('0s') }, 'gantz.yaml', 5, zero],
    ['a script timeout that rounds to 0 ms', { 'gantz.yaml': script('0.0001') }, 'gantz.yaml', 5, zero],
    ['a script timeout of 1000h', { 'gantz.yaml': script('1000h') }, 'gantz.yaml', 5, tooLong],
    ['a script timeout of 2147484 seconds', { 'gantz.yaml': script('2147484') }, 'gantz.yaml', 5, tooLong],
    ['an http timeout of "0ms"', { 'gantz.yaml': http('0ms') }, 'gantz.yaml', 6, zero],
    ['a step timeout of 700h', { 'gantz.yaml': script('1s'), 'agent-team.yaml': team(', timeout: 700h') }, 'agent-team.yaml', 6, tooLong],
    ['a step timeout of 0', { 'gantz.yaml': script('1s'), 'agent-team.yaml': team(', timeout: 0') }, 'agent-team.yaml', 6, zero],
    ['a retry backoff of 1000h', { 'gantz.yaml': script('1s'), 'agent-team.yaml': team(', retry: { max: 1, backoff: 1000h }') }, 'agent-team.yaml', 6, tooLong],
    ['a budget timeout of 0', { 'gantz.yaml': script('1s'), 'agent-team.yaml': team('', '    budget: { timeout: 0 }\n') }, 'agent-team.yaml', 4, zero],
    ['a startup_timeout of 0', { 'gantz.yaml': server('    startup_timeout: 0\n') }, 'gantz.yaml', 4, zero],
    ['a tool_timeout of 800h', { 'gantz.yaml': server('    tool_timeout: 800h\n') }, 'gantz.yaml', 4, tooLong],
    ['a rate limit window of 0s', { 'gantz.yaml': server('    rate_limit: { calls: 1, per: 0s }\n') }, 'gantz.yaml', 4, zero],
  ])('%s is refused at validation, where it stands', async (_name, files, file, line, message) => {
    const issues = await issuesOf(files);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'ORCH_SCHEMA', file, line });
    expect(issues[0]?.message).toMatch(message);
  });

  it.each([
    ['596h, the longest a timer waits', { 'gantz.yaml': script('596h') }],
    ['a backoff of 0s', { 'gantz.yaml': script('1s'), 'agent-team.yaml': team(', retry: { max: 1, backoff: 0s }') }],
  ])('%s is accepted', async (_name, files) => {
    expect(await issuesOf(files)).toEqual([]);
  });

  it('the limit is what a Node timer holds', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
  });
});

describe('pool sizes', () => {
  it.each(['count', 'replicas'])('`%s` above the maximum `orch scale` allows is refused', async (key) => {
    const issues = await issuesOf({ 'agent-team.yaml': `agents:\n  - role: w\n    ${key}: 100000000\n` });
    expect(issues).toMatchObject([{ code: 'ORCH_SCHEMA', file: 'agent-team.yaml', line: 3, message: expect.stringContaining('10000') }]);
  });

  it('the schema and `orch scale` share one maximum', () => {
    const props = teamSchema.definitions.agent.properties;
    expect(props.count.maximum).toBe(MAX_POOL_SIZE);
    expect(props.replicas.maximum).toBe(MAX_POOL_SIZE);
  });
});
