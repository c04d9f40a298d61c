/** What redaction needs of a server: the values of its `env` and `headers`, all secret. */
export interface SecretSource {
  env: Readonly<Record<string, string>>;
  headers: Readonly<Record<string, string>>;
}

/** Parts of variable names that mark a secret wherever they stand: `MY_API_TOKEN`, `DB_PASSWD`, `GOOGLE_CREDENTIALS`. */
const SECRET_NAME_PART = /TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;
/** Words that mark a secret only as a whole word of the name: `GITHUB_PAT` but not `PATH`, `SMTP_PASS` but not `COMPASS`. */
const SECRET_NAME_WORDS = new Set(['PAT', 'PASS', 'PWD', 'AUTH']);
/** The shell's working directories: paths, never secrets, though `PWD` is a word for a password elsewhere. */
const NOT_SECRET_NAMES = new Set(['PWD', 'OLDPWD']);

/**
 * Whether an environment variable's name marks its value as a secret. Names match more
 * broadly than data keys (`secretKey`): they are declared by people who expect any such
 * name to be hidden.
 */
export function secretName(name: string): boolean {
  if (SECRET_NAME_PART.test(name)) return true;
  if (NOT_SECRET_NAMES.has(name.toUpperCase())) return false;
  return name.split(/[^A-Za-z0-9]+/).some((word) => SECRET_NAME_WORDS.has(word.toUpperCase()));
}

export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not treated as secrets: a declared `DEBUG: "1"` cannot
 * carry a credential, and hiding every "1" would make logs unreadable.
 */
const MIN_SECRET_LENGTH = 3;

/**
 * Values learned from under a secret-looking key (`learn`) are hidden in free text only
 * from this length on: a key such as `sort_key: "name"` is hidden where it stands, but
 * hiding every "name" of every log would be worse than useless.
 */
const MIN_LEARNED_LENGTH = 8;

/** Learned values are bounded, so a long-running `orch serve` does not grow without end. */
const MAX_LEARNED = 1000;

/**
 * Every value that must never reach a file orch writes: secret-looking variables of
 * orch's environment, and every `env` and `headers` value of every server.
 */
export function collectSecrets(env: NodeJS.ProcessEnv, servers: Iterable<SecretSource>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && secretName(name)) values.add(value);
  }
  for (const server of servers) {
    for (const value of Object.values(server.env)) values.add(value);
    for (const value of Object.values(server.headers)) values.add(value);
  }
  return [...values].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

// `tokens` is not among them: `input_tokens`, `max_tokens` and the like are usage counts, never secrets.
const SECRET_WORDS = new Set([
  'token', 'key', 'keys', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'apikey', 'passphrase',
  'pat', 'credential', 'credentials', 'auth', 'authorization',
]);

/**
 * Whether a data key names a secret: one of its words (split at `_`, `-`, `.` and
 * camelCase) is token, key, secret, password, pat, credentials or auth — `api_key`,
 * `accessToken`, `DB_PASSWORD`, `github_pat`, but not `keyword`, `monkey` or `path`.
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

/** The password of a URL's credentials, `scheme://user:password@host`, whatever orch knows of it. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)([^\s/@]+)(@)/gi;

/** The redactor for everything written about a project: its environment's secrets and its servers'. */
export function secretsRedactor(env: NodeJS.ProcessEnv, servers: Iterable<SecretSource>): Redactor {
  return new Redactor(collectSecrets(env, servers));
}

/**
 * Replaces secrets in strings and in any JSON-like value before it is written down or
 * shown. It only ever makes copies: the values a step or tool receives are never touched.
 */
export class Redactor {
  private readonly secrets: Set<string>;
  private learned = 0;
  private pattern: RegExp | undefined;
  /** The same secrets without the `g` flag, whose `test` keeps no state between strings. */
  private probe: RegExp | undefined;

  constructor(secrets: string[]) {
    this.secrets = new Set(secrets);
    this.setPattern();
  }

  private setPattern(): void {
    this.pattern = this.compile();
    this.probe = this.pattern && new RegExp(this.pattern.source);
  }

  private compile(): RegExp | undefined {
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...this.secrets].sort((a, b) => b.length - a.length);
    const escaped = sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return escaped.length > 0 ? new RegExp(escaped.join('|'), 'g') : undefined;
  }

  /**
   * Takes the strings under secret-looking keys of `value` (a run's inputs, a tool's
   * arguments) as secrets from now on: a tool that echoes the `api_key` it was given has
   * it hidden in its output too. Call it before what may echo them is written.
   */
  learn(value: unknown): void {
    const found: string[] = [];
    collectUnderSecretKeys(value, false, found);
    const fresh = found.filter((v) => v.length >= MIN_LEARNED_LENGTH && !this.secrets.has(v));
    if (fresh.length === 0 || this.learned >= MAX_LEARNED) return;
    for (const v of fresh.slice(0, MAX_LEARNED - this.learned)) this.secrets.add(v);
    this.learned += fresh.length;
    this.setPattern();
  }

  redactString(text: string): string {
    const hidden = this.pattern ? text.replace(this.pattern, REDACTED) : text;
    return hidden.includes('://') ? hidden.replace(URL_PASSWORD, `$1${REDACTED}$3`) : hidden;
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
   * `value` itself when nothing in it needs hiding, else a copy as `redact` makes: for a
   * value only read from then on (written out, handed back), which then costs no copy.
   */
  redacted<T>(value: T): T {
    return (this.isClean(value) ? value : this.redact(value)) as T;
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

function collectUnderSecretKeys(value: unknown, secret: boolean, out: string[]): void {
  if (typeof value === 'string') {
    if (secret) out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectUnderSecretKeys(item, secret, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) collectUnderSecretKeys(item, secret || secretKey(key), out);
  }
}

/**
 * Where a value read back from orch's files holds a redaction, as a path (`''` for the
 * value itself, `b[1].c` inside it); undefined when it holds none. What was redacted was
 * never stored: such a value cannot stand in for the one it replaced.
 */
export function redactedPath(value: unknown, at = ''): string | undefined {
  if (typeof value === 'string') return value.includes(REDACTED) ? at : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = redactedPath(item, `${at}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = redactedPath(item, at === '' ? key : `${at}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
