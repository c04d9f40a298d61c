/** What redaction needs of a server: the values of its `env` and `headers`, all secret. */
export interface SecretSource {
  env: Readonly<Record<string, string>>;
  headers: Readonly<Record<string, string>>;
}

/** Names of variables whose values are secrets wherever they show up. */
const SECRET_NAME = /TOKEN|KEY|SECRET|PASSWORD/i;

export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not treated as secrets: a declared `DEBUG: "1"` cannot
 * carry a credential, and hiding every "1" would make logs unreadable.
 */
const MIN_SECRET_LENGTH = 3;

/**
 * Every value that must never reach a file orch writes: secret-looking variables of
 * orch's environment, and every `env` and `headers` value of every server.
 */
export function collectSecrets(env: NodeJS.ProcessEnv, servers: Iterable<SecretSource>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && SECRET_NAME.test(name)) values.add(value);
  }
  for (const server of servers) {
    for (const value of Object.values(server.env)) values.add(value);
    for (const value of Object.values(server.headers)) values.add(value);
  }
  return [...values].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

// `tokens` is not among them: `input_tokens`, `max_tokens` and the like are usage counts, never secrets.
const SECRET_WORDS = new Set(['token', 'key', 'keys', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'apikey', 'passphrase']);

/**
 * Whether a data key names a secret: one of its words (split at `_`, `-`, `.` and
 * camelCase) is token, key, secret or password — `api_key`, `accessToken`, `DB_PASSWORD`,
 * but not `keyword` or `monkey`. Environment variable names match more broadly
 * (`SECRET_NAME`), as they are declared by people who expect any such name to be hidden.
 */
export function secretKey(key: string): boolean {
  // Argument keys repeat on every call of a tool: each is worked out once.
  let known = secretKeys.get(key);
  if (known === undefined) {
    known = key
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .split(/[\s_.-]+/)
      .some((word) => SECRET_WORDS.has(word.toLowerCase()));
    if (secretKeys.size < 10_000) secretKeys.set(key, known);
  }
  return known;
}
const secretKeys = new Map<string, boolean>();

/** The redactor for everything written about a project: its environment's secrets and its servers'. */
export function secretsRedactor(env: NodeJS.ProcessEnv, servers: Iterable<SecretSource>): Redactor {
  return new Redactor(collectSecrets(env, servers));
}

/** Replaces secrets in strings and in any JSON-like value before it is written down. */
export class Redactor {
  private readonly pattern: RegExp | undefined;
  /** The same secrets without the `g` flag, whose `test` keeps no state between strings. */
  private readonly probe: RegExp | undefined;

  constructor(secrets: string[]) {
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...new Set(secrets)].sort((a, b) => b.length - a.length);
    const escaped = sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = escaped.length > 0 ? new RegExp(escaped.join('|'), 'g') : undefined;
    this.probe = this.pattern && new RegExp(this.pattern.source);
  }

  redactString(text: string): string {
    return this.pattern ? text.replace(this.pattern, REDACTED) : text;
  }

  /** A copy of `value` with secret strings replaced and values under secret-looking keys hidden. */
  redact(value: unknown): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (Array.isArray(value)) return value.map((item) => this.redact(item));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        out[key] = secretKey(key) && item !== null && item !== '' ? REDACTED : this.redact(item);
      }
      return out;
    }
    return value;
  }

  /**
   * `JSON.stringify(redact(value))`, without building the copy when nothing in `value`
   * needs hiding, which is the common case: audit lines redact the arguments of every call.
   */
  redactJson(value: unknown): string | undefined {
    return JSON.stringify(this.isClean(value) ? value : this.redact(value));
  }

  /**
   * True when `value` is plain JSON-like data that `redact` would copy unchanged, so that
   * it serialises the same as its copy. Anything whose serialisation a copy would change (a
   * class instance such as a Date, an array with a `toJSON`) is not clean: it takes the
   * copying path. An own `toJSON` of a plain object is copied along, so it does not count.
   */
  private isClean(value: unknown): boolean {
    if (typeof value === 'string') return this.probe === undefined || !this.probe.test(value);
    if (typeof value !== 'object' || value === null) return true;
    const proto: unknown = Object.getPrototypeOf(value);
    if (Array.isArray(value)) {
      if (proto !== Array.prototype || 'toJSON' in value) return false;
      for (const item of value) if (!this.isClean(item)) return false;
      return true;
    }
    if (proto !== Object.prototype && proto !== null) return false;
    const record = value as Record<string, unknown>; // a plain object: its keys are strings
    for (const key of Object.keys(record)) {
      const item = record[key];
      if ((secretKey(key) && item !== null && item !== '') || !this.isClean(item)) return false;
    }
    return true;
  }
}
