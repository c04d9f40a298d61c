import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The documents the project was created from, kept beside the repository. */
export const SEEDS_DIR = fileURLToPath(new URL('../../../shared/seeds/', import.meta.url));

/**
 * Whether the seed documents are beside this checkout. Tests that check them verbatim run
 * only where they are; a fresh clone alone skips them, and says so.
 */
export const SEEDS_PRESENT = existsSync(SEEDS_DIR);

function seedText(prefix: string): string {
  const name = readdirSync(SEEDS_DIR).find((f) => f.startsWith(prefix));
  if (!name) throw new Error(`no seed ${prefix}* in ${SEEDS_DIR}`);
  return readFileSync(path.join(SEEDS_DIR, name), 'utf8');
}

/** Fenced code blocks of one language in a markdown text. */
function blocks(text: string, lang: string): string[] {
  const out: string[] = [];
  const fence = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```', 'g');
  for (const m of text.matchAll(fence)) out.push(m[1] ?? '');
  return out;
}

function find(list: string[], predicate: (b: string) => boolean, what: string): string {
  const found = list.find(predicate);
  if (found === undefined) throw new Error(`seed has no ${what} block`);
  return `${found}\n`;
}

/** The orchestration seed's gantz.yaml, as written there. */
export function seedGantzYaml(): string {
  return find(blocks(seedText('000_'), 'yaml'), (b) => b.startsWith('# gantz.yaml'), 'gantz.yaml');
}

/** The guide seed's agent-team.yaml, as written there. */
export function seedAgentTeamYaml(): string {
  return find(blocks(seedText('004_'), 'yaml'), (b) => b.startsWith('# agent-team.yaml'), 'agent-team.yaml');
}

/** The guide seed's MCP server configuration (`{"mcpServers": ...}`), as written there. */
export function seedMcpJson(): string {
  return find(blocks(seedText('004_'), 'json'), (b) => b.includes('"mcpServers"'), 'mcpServers');
}
