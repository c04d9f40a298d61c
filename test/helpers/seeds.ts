import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The files the two seed documents show (the orchestration seed's gantz.yaml, the guide
// seed's agent-team.yaml and mcpServers), copied verbatim into test/fixtures/seeds/ so the
// tests that run them need nothing beside the repository.
const FIXTURES = fileURLToPath(new URL('../fixtures/seeds/', import.meta.url));
const fixture = (name: string): string => readFileSync(`${FIXTURES}${name}`, 'utf8');

/** The orchestration seed's gantz.yaml, as written there. */
export function seedGantzYaml(): string {
  return fixture('gantz.yaml');
}

/** The guide seed's agent-team.yaml, as written there. */
export function seedAgentTeamYaml(): string {
  return fixture('agent-team.yaml');
}

/** The guide seed's MCP server configuration (`{"mcpServers": ...}`), as written there. */
export function seedMcpJson(): string {
  return fixture('mcp.json');
}
