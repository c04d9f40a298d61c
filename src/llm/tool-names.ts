import { createHash } from 'node:crypto';

/** What Anthropic and OpenAI accept as a tool name. */
const PROVIDER_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_LENGTH = 64;

/** orch's tool names (`memory.create_entities`) and the names a provider is shown (`memory__create_entities`), both ways. */
export interface ToolNames {
  toProvider(name: string): string;
  /** A name the model used; one orch never offered comes back as it is, for the caller to refuse. */
  fromProvider(name: string): string;
}

/**
 * The names for one request's tools. A name the provider already accepts keeps itself;
 * others have `.` written as `__` and any other character as `_`. A result that is taken,
 * or too long, ends in a digest of the original name instead — so the mapping depends on
 * the set of names, not their order, and a recording made with it replays.
 */
export function toolNames(names: readonly string[]): ToolNames {
  const forward = new Map<string, string>();
  const back = new Map<string, string>();
  const take = (name: string, shown: string): void => {
    forward.set(name, shown);
    back.set(shown, name);
  };
  const unique = [...new Set(names)];
  for (const name of unique) if (PROVIDER_NAME.test(name)) take(name, name);
  for (const name of unique.filter((n) => !PROVIDER_NAME.test(n)).sort()) {
    let shown = sanitise(name);
    for (let n = 0; shown.length > MAX_LENGTH || back.has(shown); n++) {
      const tag = digest(n === 0 ? name : `${name}#${n}`);
      shown = `${sanitise(name).slice(0, MAX_LENGTH - tag.length - 1)}_${tag}`;
    }
    take(name, shown);
  }
  return {
    toProvider: (name) => forward.get(name) ?? sanitise(name).slice(0, MAX_LENGTH),
    fromProvider: (name) => back.get(name) ?? name,
  };
}

function sanitise(name: string): string {
  const shown = name.replace(/\./g, '__').replace(/[^a-zA-Z0-9_-]/g, '_');
  return shown === '' ? 'tool' : shown;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}
