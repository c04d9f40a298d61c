import { suggestOr } from '../../util/suggest.js';
import { isAgentTool } from '../builtins.js';
import { under } from '../locate.js';
import type { AgentDef } from '../model.js';
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

/** Each role an agent may hand off to is an agent of the team, and not the agent itself. */
export const agentHandoffs: Rule = {
  name: 'agent-handoffs',
  crossFile: false,
  agent({ project, sink }, agent) {
    (agent.handoffs ?? []).forEach((role, i) => {
      const at = under(agent.origin, 'handoffs', i);
      if (role === agent.role) sink.error('ORCH_UNKNOWN_AGENT', at, `agent \`${agent.role}\` lists itself in \`handoffs\``, { hint: 'name the agents it may hand the conversation to' });
      else if (!project.agents.has(role)) {
        sink.error('ORCH_UNKNOWN_AGENT', at, `agent \`${agent.role}\` hands off to unknown agent \`${role}\``, {
          hint: suggestOr(role, [...project.agents.keys()], 'name a role of agent-team.yaml'),
        });
      }
    });
  },
};

/** A remote A2A agent acts on its own: what only a local agent has means nothing on it. */
export const agentRemote: Rule = {
  name: 'agent-remote',
  crossFile: false,
  agent({ sink }, agent) {
    if (agent.strayHeaders) {
      sink.error('ORCH_A2A_AGENT', under(agent.origin, 'headers'), `agent \`${agent.role}\` has \`headers\` but no \`a2a\` URL to send them to`, {
        key: true,
        hint: 'add `a2a: <url>` for a remote agent, or remove `headers`',
      });
    }
    if (!agent.a2a) return;
    const local = (['model', 'provider', 'system_prompt', 'tools', 'handoffs', 'approval', 'max_iterations'] as const).filter((key) => localKey(agent, key));
    for (const key of local) {
      sink.error('ORCH_A2A_AGENT', under(agent.origin, key), `agent \`${agent.role}\` is a remote A2A agent (\`a2a\`), so \`${key}\` does not apply`, {
        key: true,
        hint: 'the remote agent decides how it acts; remove the key, or remove `a2a` for a local agent',
      });
    }
  },
};

function localKey(agent: AgentDef, key: 'model' | 'provider' | 'system_prompt' | 'tools' | 'handoffs' | 'approval' | 'max_iterations'): boolean {
  switch (key) {
    case 'model':
      return agent.model !== undefined;
    case 'provider':
      return agent.provider !== undefined;
    case 'system_prompt':
      return agent.systemPrompt !== undefined;
    case 'tools':
      return agent.tools !== undefined;
    case 'handoffs':
      return agent.handoffs !== undefined;
    case 'approval':
      return agent.approval !== undefined;
    case 'max_iterations':
      return agent.maxIterations !== undefined;
  }
}
