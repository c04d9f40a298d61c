import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REDACTED, Redactor, secretKey } from '../secrets/redact.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { llmError } from './errors.js';

/*
 * Record/replay of provider exchanges at the fetch level (`--record <dir>`, `--replay <dir>`).
 * One file per request, `<dir>/<digest>.json`. The digest is the first 32 hex digits of
 * the SHA-256 of the canonical JSON (keys sorted, no spaces) of
 *   { v: 1, method, path, body }
 * where `method` is upper case; `path` is the URL's path and its query, parameters sorted,
 * without scheme, host or port (the stub's port, a gateway's host differ between runs);
 * `body` is the request's JSON with the project's redaction applied (secret values and
 * values under secret-looking keys replaced), or its redacted text when it is not JSON.
 * Headers are never part of it: they carry the key and the SDK's version. A request body
 * holds no timestamps; tool call ids in the history come from earlier answers, which
 * replay serves back as recorded. So the same prompt, tools and model give the same file.
 */

/** `--record <dir>` / `--replay <dir>`, as data that a child-process worker or a built-in handler can be given too. */
export interface CassetteSpec {
  record?: string;
  replay?: string;
}

/** A cassette hands out one transport per request, so a miss can say which step and turn it was. */
export interface Cassette {
  /** The fetch to pass to `chat()` for one request, e.g. `fetchFor('step review, turn 2')`. */
  fetchFor(label: string): typeof fetch;
}

/** One recorded exchange, as the file holds it. */
export interface Recording {
  version: 1;
  label: string;
  digest: string;
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  response: { status: number; statusText: string; headers: Record<string, string>; body: unknown; bodyKind: 'json' | 'text' };
}

const FORMAT = 1;
/** Request headers whose values are credentials, whatever the redactor knows. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'proxy-authorization', 'cookie', 'x-goog-api-key']);
/** Response headers a replay needs: how to read the body. */
const KEPT_RESPONSE_HEADERS = ['content-type'];

/**
 * Passes each request on to `inner` (default the global fetch) and writes the exchange
 * down, redacted. Only answers are recorded: a 429 or 5xx, which orch retries, is not,
 * so a replay sees the answer the retries eventually got and never waits.
 */
export function recordingFetch(dir: string, options: { redactor: Redactor; inner?: typeof fetch }): Cassette {
  const inner = options.inner ?? globalThis.fetch;
  return {
    fetchFor: (label) => async (input, init) => {
      const request = await readRequest(input, init, options.redactor);
      // A body given as a stream was read for the digest: the request goes on with its text.
      const response = await inner(input, typeof init?.body === 'string' || init?.body == null ? init : { ...init, body: request.text });
      if (response.status === 429 || response.status >= 500) return response;
      const text = await response.text();
      const headers: Record<string, string> = {};
      for (const name of KEPT_RESPONSE_HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      const redacted = options.redactor.redactString(text);
      const json = parseJson(redacted);
      const recording: Recording = {
        version: FORMAT,
        label,
        digest: request.digest,
        request: { method: request.method, path: request.path, headers: request.headers, body: request.body },
        response: {
          status: response.status,
          statusText: response.statusText,
          headers,
          ...(json.ok && /json/i.test(headers['content-type'] ?? '')
            ? { body: json.value, bodyKind: 'json' }
            : { body: redacted, bodyKind: 'text' }),
        },
      };
      await writeFileAtomic(path.join(dir, `${request.digest}.json`), `${JSON.stringify(recording, null, 2)}\n`);
      // The caller reads the body as it was sent; only the file is redacted.
      return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
  };
}

/**
 * Serves recorded exchanges and never touches the network. A request with no recording
 * throws `ORCH_REPLAY_MISS` naming the label. `redactor` must redact as the recording
 * run's did for bodies that held secrets to match (by default it hides values under
 * secret-looking keys only, like every redactor).
 */
export function replayingFetch(dir: string, options: { redactor?: Redactor } = {}): Cassette {
  const redactor = options.redactor ?? new Redactor([]);
  return {
    fetchFor: (label) => async (input, init) => {
      if (init?.signal?.aborted) throw abortError(init.signal);
      const request = await readRequest(input, init, redactor);
      const file = path.join(dir, `${request.digest}.json`);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        const what = `${request.method} ${request.path} (request ${request.digest})`;
        throw llmError('ORCH_REPLAY_MISS', `no recording for ${label}: ${what} is not in ${dir}`, {
          hint: 'the prompt, tools or model changed since the recording: record again with --record <dir>',
        });
      }
      const recording = readRecording(text, file);
      const { response } = recording;
      const body = response.bodyKind === 'json' ? JSON.stringify(response.body) : String(response.body);
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
  };
}

interface NormalisedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  digest: string;
  /** The body as sent, unredacted. */
  text: string;
}

async function readRequest(input: string | URL | Request, init: RequestInit | undefined, redactor: Redactor): Promise<NormalisedRequest> {
  const request = input instanceof Request ? input.clone() : undefined;
  const url = new URL(request ? request.url : String(input));
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
  const rawHeaders = new Headers(init?.headers ?? request?.headers);
  const text = init?.body !== undefined && init.body !== null ? await new Response(init.body).text() : request ? await request.text() : '';

  const params = [...url.searchParams.entries()]
    .map(([k, v]): [string, string] => [k, secretKey(k) ? REDACTED : redactor.redactString(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(params).toString();
  const requestPath = `${url.pathname}${query ? `?${query}` : ''}`;
  const json = parseJson(text);
  const body = text === '' ? null : json.ok ? redactor.redact(json.value) : redactor.redactString(text);
  const headers: Record<string, string> = {};
  rawHeaders.forEach((value, name) => {
    headers[name] = CREDENTIAL_HEADERS.has(name) ? REDACTED : redactor.redactString(value);
  });
  const digest = createHash('sha256')
    .update(canonical({ v: FORMAT, method, path: requestPath, body }))
    .digest('hex')
    .slice(0, 32);
  return { method, path: requestPath, headers, body, digest, text };
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function readRecording(text: string, file: string): Recording {
  const parsed = parseJson(text);
  const value = parsed.ok ? parsed.value : undefined;
  if (
    typeof value === 'object' &&
    value !== null &&
    'version' in value &&
    value.version === FORMAT &&
    'response' in value &&
    typeof value.response === 'object' &&
    value.response !== null &&
    'status' in value.response &&
    typeof value.response.status === 'number'
  ) {
    // The fields a replay reads are checked; the rest is orch's own file format.
    return value as Recording;
  }
  throw llmError('ORCH_REPLAY_CORRUPT', `${file} is not a recording orch can replay`, { hint: 'record it again with --record <dir>' });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}
