import { suggestOr } from '../../util/suggest.js';
import { isAgentTool } from '../builtins.js';
import { under } from '../locate.js';
import type { Rule } from './rule.js';
import { resolveToolName } from './tool-names.js';

/** Each tool an agent lists is declared, or named so that an MCP server could provide it. */
export const agentTools: Rule = {
  name: 'agent-tools',
  crossFile: true,
  agent({ project, sink }, agent) {
    (agent.tools ?? []).forEach((name, i) => {
      if (sink.brokenTools.has(name)) return;
      const at = under(agent.origin, 'tools', i);
      if (isAgentTool(name) && !project.tools.has(name)) return; // built in: delegation, status, a question to a person
      const r = resolveToolName(project, name);
      switch (r.kind) {
        case 'declared':
          return;
        case 'server':
        case 'unverified':
          sink.unverified(
            name,
            at,
            `tool \`${name}\` of agent \`${agent.role}\` is not declared in gantz.yaml; only an MCP server could provide it`,
          );
          return;
        case 'unknown-server':
          if (project.disabledServers?.has(r.server)) {
            sink.warn('ORCH_SERVER_DISABLED', at, `tool \`${name}\` of agent \`${agent.role}\` is on MCP server \`${r.server}\`, which is disabled`, {
              hint: 'the agent cannot use it until `disabled: true` is removed from the server',
            });
            return;
          }
          sink.error('ORCH_UNKNOWN_SERVER', at, `tool \`${name}\` names unknown MCP server \`${r.server}\``, {
            hint: suggestOr(r.server, [...project.servers.keys()], 'declare the server under `mcpServers`'),
          });
          return;
        case 'missing':
          sink.error('ORCH_UNKNOWN_TOOL', at, `agent \`${agent.role}\` lists unknown tool \`${name}\``, {
            hint: suggestOr(name, [...project.tools.keys()], 'declare it in gantz.yaml, or add the MCP server that provides it'),
          });
          return;
        default: {
          const never: never = r;
          return never;
        }
      }
    });
  },
};
