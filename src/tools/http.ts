import type { HttpHandler } from '../config/model.js';
import { formatDuration } from '../config/duration.js';
import { getPath, renderData, renderForm, renderJsonText, renderText, renderUrl } from '../lang/placeholders.js';
import { OrchError } from '../errors.js';
import { parseOutput, ToolError, type ToolResult } from './result.js';

/** An http tool without its own `timeout` gives up after this long (the schema's documented default). */
const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

export interface HttpOptions {
  tool: string;
  signal?: AbortSignal;
}

/**
 * Sends an `http:` tool's request. Values are URL-encoded in the URL and JSON-escaped in
 * a JSON body; a YAML body is sent as JSON. The response body is the result (parsed when
 * it is JSON), narrowed by `extract_json`; a status outside 2xx is a ToolError carrying
 * the status and body.
 */
export async function runHttp(handler: HttpHandler, params: Record<string, unknown>, options: HttpOptions): Promise<ToolResult> {
  const { tool } = options;
  const method = handler.method.toUpperCase();
  const url = renderUrl(handler.url, params);
  const headers = new Headers();
  for (const [name, value] of Object.entries(handler.headers)) {
    const text = renderText(value, params);
    const problem = headerValueProblem(text);
    if (problem) throw new OrchError('ORCH_INPUT', `${tool}: the value for header ${name} ${problem}`, { hint: HEADER_HINT });
    try {
      headers.set(name, text);
    } catch (err) {
      // What the checks above do not cover: a header name HTTP does not allow.
      throw new OrchError('ORCH_INPUT', `${tool}: header ${JSON.stringify(name)} cannot be sent: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const body = renderBody(handler.body, params, headers);
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
    throw new ToolError(tool, `${tool}: a ${method} request cannot have a body`, { code: 'ORCH_TOOL_INVALID' });
  }

  const signals = [options.signal, AbortSignal.timeout(handler.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS)];
  const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method, headers, body, signal, redirect: 'follow' });
    text = await response.text();
  } catch (err) {
    throw requestError(tool, handler, url, err, options.signal);
  }

  const value = isJson(response.headers.get('content-type')) ? parseJson(text) : parseOutput(text);
  if (!response.ok) {
    throw new ToolError(tool, `${tool}: ${method} ${url} answered ${response.status} ${response.statusText}`.trimEnd(), {
      detail: { status: response.status, body: value },
    });
  }
  if (handler.extractJson === undefined) return { value };
  const extracted = getPath(value, handler.extractJson.replace(/^\$?\./, ''));
  if (extracted === undefined) {
    throw new ToolError(tool, `${tool}: the response has nothing at extract_json path \`${handler.extractJson}\``, {
      detail: { status: response.status, body: value },
      hint: 'check the path against the response body shown with --verbose',
    });
  }
  return { value: extracted };
}

const HEADER_HINT = 'a header value is Latin-1 text on one line; percent-encode other values, or send them in the body';

/**
 * Why a header value cannot be sent, if it cannot. A line break could start a header of
 * its own; HTTP carries header values as Latin-1 bytes, so any other character has no
 * form on the wire. Both are bad input, refused before anything is sent.
 */
function headerValueProblem(text: string): string | undefined {
  if (/[\r\n\0]/.test(text)) return 'contains a line break or NUL';
  const at = [...text].findIndex((ch) => (ch.codePointAt(0) ?? 0) > 0xff);
  if (at === -1) return undefined;
  const ch = [...text][at] ?? '';
  const code = `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `has ${JSON.stringify(ch)} (${code}) at character ${at + 1}, outside the Latin-1 range HTTP header values can carry`;
}

function renderBody(body: unknown, params: Record<string, unknown>, headers: Headers): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return JSON.stringify(renderData(body, params));
  }
  // A string body is JSON text when declared so or when it looks like JSON.
  const trimmed = body.trim();
  const json = isJson(headers.get('content-type')) || trimmed.startsWith('{') || trimmed.startsWith('[');
  if (!json) return /application\/x-www-form-urlencoded/i.test(headers.get('content-type') ?? '') ? renderForm(body, params) : renderText(body, params);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return renderJsonText(body, params);
}

function isJson(contentType: string | null): boolean {
  return contentType !== null && /[/+]json\b/i.test(contentType);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return parseOutput(text);
  }
}

function requestError(tool: string, handler: HttpHandler, url: string, err: unknown, caller?: AbortSignal): ToolError {
  if (caller?.aborted) return new ToolError(tool, `${tool} was cancelled`, { code: 'ORCH_CANCELLED', cause: err });
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new ToolError(tool, `${tool} timed out after ${formatDuration(handler.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS)}`, {
      code: 'ORCH_TOOL_TIMEOUT',
      hint: "raise the tool's `timeout`, or check that the server answers",
    });
  }
  // fetch reports network failures as "fetch failed" with the reason in `cause`.
  const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return new ToolError(tool, `${tool}: request to ${url} failed: ${cause}`, { cause: err });
}
