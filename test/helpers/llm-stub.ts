import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Anthropic Messages API (`POST /v1/messages`) and OpenAI chat
 * completions (`POST /v1/chat/completions`) on 127.0.0.1, JSON or SSE as the request's
 * `stream` asks, driven by a queue of scripted replies. Every request is kept, parsed, so
 * a test can assert on what was offered and sent and count the turns. Another process
 * drives it over HTTP: `POST /_stub/replies` (a JSON array) queues replies and
 * `GET /_stub/requests` lists the requests (test/fixtures/llm-stub-server.mjs).
 */

export interface StubUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface StubToolCall {
  name: string;
  /** A string is sent as the arguments' raw text (OpenAI), or as a non-object input (Anthropic): a malformed call. */
  input: Record<string, unknown> | string;
  /** Default: `toolu_stub_<n>` (Anthropic) or `call_stub_<n>` (OpenAI), counted per stub. */
  id?: string;
}

/** An answer: text, tool calls (several = parallel calls), or both. */
export interface StubAnswer {
  text?: string;
  toolCalls?: StubToolCall[];
  /** Default `{ input_tokens: 10, output_tokens: 5 }`. */
  usage?: StubUsage;
  /** Wait this long before answering (a request in flight, for cancellation). */
  delayMs?: number;
  /**
   * Serve this reply only to a request whose JSON body contains this text (e.g. an
   * agent's role in its system prompt): parallel agents then each get their own script.
   * The first queued reply that fits is served; one without `when` fits any request.
   */
  when?: string;
}

/** An HTTP error in the provider's shape: 429 (with `retry-after` seconds), 500, 400 with a message... */
export interface StubFault {
  status: number;
  message?: string;
  retryAfter?: number;
  delayMs?: number;
}

export type StubReply = StubAnswer | StubFault;

export interface StubRequest {
  api: 'anthropic' | 'openai' | 'unknown';
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body (`{}` when there was none). */
  body: Record<string, unknown>;
  stream: boolean;
}

export interface LlmStub {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** For ANTHROPIC_BASE_URL, in its usual form (no `/v1`). */
  anthropicBase: string;
  /** For OPENAI_BASE_URL, in its usual form (with `/v1`). */
  openaiBase: string;
  /** Queues replies, served in order to requests of either API. */
  reply(...replies: StubReply[]): void;
  /** Every request so far, in arrival order (live). */
  readonly requests: StubRequest[];
  /** Replies queued and not yet served. */
  pending(): number;
  close(): Promise<void>;
}

const DEFAULT_USAGE: StubUsage = { input_tokens: 10, output_tokens: 5 };
const ROUTES: Record<string, 'anthropic' | 'openai'> = { '/v1/messages': 'anthropic', '/v1/chat/completions': 'openai' };

export async function startStub(options: { port?: number; replies?: StubReply[] } = {}): Promise<LlmStub> {
  const queue: StubReply[] = [...(options.replies ?? [])];
  const requests: StubRequest[] = [];
  let ids = 0;
  const nextId = (): number => ++ids;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`llm-stub: ${String(err)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://stub');
    if (url.pathname === '/_stub/requests' && req.method === 'GET') return json(res, 200, requests);
    if (url.pathname === '/_stub/replies' && req.method === 'POST') {
      const replies = JSON.parse(raw) as StubReply[];
      queue.push(...replies);
      return json(res, 200, { pending: queue.length });
    }
    const body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
    const api = req.method !== 'POST' ? 'unknown' : (ROUTES[url.pathname] ?? 'unknown');
    const stream = body.stream === true;
    requests.push({ api, method: req.method ?? 'GET', path: url.pathname, headers: flatHeaders(req), body, stream });
    if (api === 'unknown') return json(res, 404, { error: { message: `llm-stub: no route ${req.method} ${url.pathname}` } });

    const text = JSON.stringify(body);
    const at = queue.findIndex((r) => !('when' in r) || r.when === undefined || text.includes(r.when));
    const reply = (at < 0 ? undefined : queue.splice(at, 1)[0]) ?? { status: 400, message: `llm-stub: no reply scripted for request ${requests.length}` };
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (res.destroyed) return;
    if ('status' in reply) return fault(res, api, reply);
    const model = typeof body.model === 'string' ? body.model : 'stub-model';
    if (api === 'anthropic') return stream ? anthropicStream(res, reply, model, nextId) : json(res, 200, anthropicMessage(reply, model, nextId));
    return stream ? openaiStream(res, reply, model, nextId, includeUsage(body)) : json(res, 200, openaiCompletion(reply, model, nextId));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    anthropicBase: url,
    openaiBase: `${url}/v1`,
    reply: (...replies) => void queue.push(...replies),
    requests,
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function fault(res: ServerResponse, api: 'anthropic' | 'openai', reply: StubFault): void {
  const message = reply.message ?? `llm-stub: scripted HTTP ${reply.status}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
  const type = reply.status === 429 ? 'rate_limit_error' : reply.status >= 500 ? 'api_error' : 'invalid_request_error';
  const body = api === 'anthropic' ? { type: 'error', error: { type, message } } : { error: { message, type, param: null, code: null } };
  res.writeHead(reply.status, headers);
  res.end(JSON.stringify(body));
}

function anthropicMessage(reply: StubAnswer, model: string, nextId: () => number): Record<string, unknown> {
  const calls = reply.toolCalls ?? [];
  const usage = reply.usage ?? DEFAULT_USAGE;
  const content: Record<string, unknown>[] = [];
  if (reply.text !== undefined || calls.length === 0) content.push({ type: 'text', text: reply.text ?? '' });
  for (const call of calls) content.push({ type: 'tool_use', id: call.id ?? `toolu_stub_${nextId()}`, name: call.name, input: call.input });
  return {
    id: `msg_stub_${nextId()}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: calls.length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens },
  };
}

function anthropicStream(res: ServerResponse, reply: StubAnswer, model: string, nextId: () => number): void {
  const message = anthropicMessage(reply, model, nextId);
  const usage = reply.usage ?? DEFAULT_USAGE;
  const events: [string, Record<string, unknown>][] = [
    [
      'message_start',
      { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: usage.input_tokens, output_tokens: 0 } } },
    ],
  ];
  (message.content as Record<string, unknown>[]).forEach((block, index) => {
    if (block.type === 'text') {
      events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } }]);
    } else {
      const start = { type: 'tool_use', id: block.id, name: block.name, input: {} };
      events.push(['content_block_start', { type: 'content_block_start', index, content_block: start }]);
      const delta = { type: 'input_json_delta', partial_json: typeof block.input === 'string' ? block.input : JSON.stringify(block.input) };
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta }]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  const delta = { stop_reason: message.stop_reason, stop_sequence: null };
  events.push(['message_delta', { type: 'message_delta', delta, usage: { output_tokens: usage.output_tokens } }]);
  events.push(['message_stop', { type: 'message_stop' }]);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.end(events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''));
}

function openaiCompletion(reply: StubAnswer, model: string, nextId: () => number): Record<string, unknown> {
  const calls = reply.toolCalls ?? [];
  const usage = reply.usage ?? DEFAULT_USAGE;
  return {
    id: `chatcmpl-stub-${nextId()}`,
    object: 'chat.completion',
    created: 0,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text ?? (calls.length > 0 ? null : ''),
          ...(calls.length > 0
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id ?? `call_stub_${nextId()}`,
                  type: 'function',
                  function: { name: c.name, arguments: typeof c.input === 'string' ? c.input : JSON.stringify(c.input) },
                })),
              }
            : {}),
        },
        finish_reason: calls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens, total_tokens: usage.input_tokens + usage.output_tokens },
  };
}

function openaiStream(res: ServerResponse, reply: StubAnswer, model: string, nextId: () => number, withUsage: boolean): void {
  const completion = openaiCompletion(reply, model, nextId);
  type Choice = { message: { content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }; finish_reason: string };
  const [choice] = completion.choices as Choice[];
  const base = { id: completion.id, object: 'chat.completion.chunk', created: 0, model };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
    ...base,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const chunks = [chunk({ role: 'assistant', content: '' })];
  if (choice?.message.content) chunks.push(chunk({ content: choice.message.content }));
  (choice?.message.tool_calls ?? []).forEach((call, index) => {
    chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
    chunks.push(chunk({ tool_calls: [{ index, function: { arguments: call.function.arguments } }] }));
  });
  chunks.push(chunk({}, choice?.finish_reason ?? 'stop'));
  if (withUsage) chunks.push({ ...base, choices: [], usage: completion.usage });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.end(`${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`);
}

function includeUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options;
  return typeof options === 'object' && options !== null && 'include_usage' in options && options.include_usage === true;
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
