import type { Project } from '../config/model.js';
import { displayPath } from '../config/source.js';
import type { Issue } from '../errors.js';
import { remoteClient } from './a2a-action.js';

/** How long `orch validate --connect` waits for a remote agent's card. */
const CARD_TIMEOUT_MS = 10_000;

/**
 * `orch validate --connect`: fetches the Agent Card of every remote A2A agent (`a2a:`)
 * and reports each that cannot be fetched, or offers no JSON-RPC interface orch can use.
 */
export async function remoteAgentIssues(project: Project): Promise<Issue[]> {
  const remotes = [...project.agents.values()].filter((a) => a.a2a);
  const found = await Promise.all(
    remotes.map(async (agent): Promise<Issue | undefined> => {
      const remote = agent.a2a;
      if (!remote) return undefined;
      try {
        await remoteClient(remote, AbortSignal.timeout(CARD_TIMEOUT_MS));
        return undefined;
      } catch (err) {
        return {
          severity: 'error',
          code: 'ORCH_A2A_CARD',
          message: `the Agent Card of remote agent \`${agent.role}\` (${remote.url}): ${err instanceof Error ? err.message : String(err)}`,
          file: displayPath(agent.origin.file, project.dir),
          path: [...agent.origin.path, 'a2a'].join('.'),
          hint: 'the agent must serve its card at <url>/.well-known/agent-card.json and offer JSON-RPC; check the URL and `headers:`',
        };
      }
    }),
  );
  return found.filter((i): i is Issue => i !== undefined);
}
