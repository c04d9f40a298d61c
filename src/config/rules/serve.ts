import { suggestOr } from '../../util/suggest.js';
import type { Rule } from './rule.js';

/** Each server gantz.yaml's `serve.expose` names is a configured MCP server. */
export const serveExpose: Rule = {
  name: 'serve-expose',
  crossFile: true,
  project({ project, sink }) {
    const file = project.files.gantz;
    if (!file) return;
    (project.serveExpose ?? []).forEach((name, i) => {
      if (project.servers.has(name)) return;
      sink.error('ORCH_UNKNOWN_SERVER', { file, path: ['serve', 'expose', i] }, `\`serve.expose\` names unknown MCP server \`${name}\``, {
        hint: suggestOr(name, [...project.servers.keys()], 'declare it under `mcpServers` (gantz.yaml, agent-team.yaml or .mcp.json)'),
      });
    });
  },
};
