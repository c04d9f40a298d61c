import { placeholderPaths } from '../../lang/placeholders.js';
import { suggest } from '../../util/suggest.js';
import { under } from '../locate.js';
import type { Rule } from './rule.js';

/** A tool forwarding to an MCP server names a declared server; its tool only the server can confirm. */
export const toolServer: Rule = {
  name: 'tool-server',
  crossFile: true,
  tool({ project, sink }, tool) {
    const h = tool.handler;
    if (h.kind !== 'mcp') return;
    const viaHandler = typeof sink.valueAt(under(tool.origin, 'handler')) === 'string';
    const at = under(tool.origin, viaHandler ? 'handler' : 'mcp');
    if (project.servers.has(h.server)) {
      const name = `${h.server}.${h.tool}`;
      sink.unverified(name, at, `\`${name}\` (forwarded to by tool \`${tool.name}\`) can only be confirmed by its MCP server`);
      return;
    }
    if (project.disabledServers?.has(h.server)) {
      sink.warn('ORCH_SERVER_DISABLED', at, `tool \`${tool.name}\` forwards to MCP server \`${h.server}\`, which is disabled`, {
        hint: 'the tool fails until `disabled: true` is removed from the server',
      });
      return;
    }
    const guess = suggest(h.server, [...project.servers.keys()]);
    sink.error('ORCH_UNKNOWN_SERVER', at, `tool \`${tool.name}\` forwards to unknown MCP server \`${h.server}\``, {
      hint: guess ? `did you mean \`${guess}\`?` : 'declare it under `mcpServers` (in gantz.yaml, agent-team.yaml or .mcp.json)',
    });
  },
};

/** Every `{{param}}` in a script or http tool names one of its parameters. */
export const toolPlaceholders: Rule = {
  name: 'tool-placeholders',
  crossFile: false,
  tool({ sink }, tool) {
    const h = tool.handler;
    const names = new Set(tool.params.map((p) => p.name));
    const templates: [string, (string | number)[]][] = [];
    if (h.kind === 'script') {
      if (h.shell !== undefined) templates.push([h.shell, ['script', 'shell']]);
      h.args.forEach((a, i) => templates.push([a, ['script', 'args', i]]));
    } else if (h.kind === 'http') {
      templates.push([h.url, ['http', 'url']]);
      for (const [k, v] of Object.entries(h.headers)) templates.push([v, ['http', 'headers', k]]);
      if (h.body !== undefined) templates.push([JSON.stringify(h.body), ['http', 'body']]);
    }
    for (const [text, sub] of templates) {
      // Exactly what the handlers will substitute: `{{json .State}}` or awk's `{{print $1}}`
      // are not placeholders and pass through as written.
      for (const path of placeholderPaths(text)) {
        const param = /^[A-Za-z_][\w-]*/.exec(path)?.[0] ?? '';
        if (names.has(param)) continue;
        const guess = suggest(param, [...names]);
        sink.error('ORCH_UNKNOWN_PARAM', under(tool.origin, ...sub), `\`{{${param}}}\` is not a parameter of tool \`${tool.name}\``, {
          hint: guess ? `did you mean \`{{${guess}}}\`?` : 'declare it under `parameters`',
        });
      }
    }
  },
};
