import { afterEach, describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/config/duration.js';
import { loadProject } from '../../../src/config/load.js';
import { validateProject } from '../../../src/mcp/validate.js';
import { invokeTool } from '../../../src/tools/invoke.js';
import { tempProject } from '../../helpers/project.js';

/** A gantz.yaml as the Gantz CLI itself writes it: a `server` block, string defaults, Go durations. */
const GANTZ_CLI_FILE = `name: my-tools
description: My local MCP tools
version: "1.0.0"

server:
  port: 3000

tools:
  - name: repeat
    description: Repeat a word
    parameters:
      - name: word
        type: string
        required: true
      - name: count
        type: number
        default: "3"
      - name: loud
        type: boolean
        default: "false"
    script:
      shell: 'printf "%s %s %s" "$GANTZ_ARG_WORD" "$GANTZ_ARG_COUNT" "$GANTZ_ARG_LOUD"'
      timeout: 1m30s
  - name: get_product
    parameters:
      - name: product_id
        type: string
        default: 7
    http:
      url: "http://127.0.0.1:9/products/{{product_id}}"
      timeout: 1m
`;

describe("the Gantz CLI's own gantz.yaml", () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('loads: its server port, defaults of the parameter type, compound durations', async () => {
    const p = tempProject({ 'gantz.yaml': GANTZ_CLI_FILE });
    cleanup = p.cleanup;
    const { project, issues } = await loadProject({ dir: p.dir });
    expect(issues).toEqual([]);
    expect(project.servePort).toBe(3000);
    const repeat = project.tools.get('repeat');
    expect(repeat?.params.map((q) => [q.name, q.default])).toEqual([
      ['word', undefined],
      ['count', 3],
      ['loud', false],
    ]);
    expect(repeat?.handler).toMatchObject({ kind: 'script', timeoutMs: 90_000 });
    expect(project.tools.get('get_product')?.params[0]?.default).toBe('7');
  });

  it('gives scripts their arguments as GANTZ_ARG_<NAME>, defaults included', async () => {
    const p = tempProject({ 'gantz.yaml': GANTZ_CLI_FILE });
    cleanup = p.cleanup;
    const { project } = await loadProject({ dir: p.dir });
    expect((await invokeTool(project, 'repeat', { word: 'hi there' })).value).toBe('hi there 3 false');
  });

  it('reports a default that is not of its type at validate, not at run time', async () => {
    const p = tempProject({ 'gantz.yaml': 'tools:\n  - name: t\n    parameters:\n      - { name: n, type: number, default: "ten" }\n    script: { command: "true" }\n' });
    cleanup = p.cleanup;
    const { issues } = await validateProject({ dir: p.dir });
    expect(issues).toMatchObject([{ code: 'ORCH_PARAM_DEFAULT', file: 'gantz.yaml', line: 4, message: 'the default of parameter `n` is "ten", which is not a number' }]);
  });

  it.each([
    ['1m30s', 90_000],
    ['1h2m3s', 3_723_000],
    ['1.5h', 5_400_000],
    ['2m500ms', 120_500],
    ['1ms', 1],
    [90, 90_000],
  ])('reads the duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['1m 30s', '30sm', 'm30s', '1d', ''])('refuses the duration %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
