import type * as Api from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/*
 * orch's one door to OpenTelemetry. Everything else calls the small facade below, which
 * does nothing at all until `startTracing` has loaded the SDK: with tracing off (no
 * OTLP endpoint), no OpenTelemetry module is ever imported and start-up does not grow.
 */

export type AttributeValue = string | number | boolean | undefined;
export type Attributes = Record<string, AttributeValue>;

/** A span as the code around it sees it: attributes to add, a failure to mark. */
export interface SpanHandle {
  set(attributes: Attributes): void;
  /** Marks the span failed, with the error's message (redacted). */
  fail(message: string): void;
}

/** W3C trace context (`traceparent`, `tracestate`) as it travels on a worker message. */
export type Carrier = Record<string, string>;

const NO_SPAN: SpanHandle = { set: () => undefined, fail: () => undefined };

interface Live {
  api: typeof Api;
  tracer: Api.Tracer;
  shutdown: () => Promise<void>;
}

let live: Live | undefined;
/** What hides secrets in span attributes and messages: every redactor a caller registered. */
const redactors: ((text: string) => string)[] = [];

/** Whether spans are being recorded in this process. */
export function tracingOn(): boolean {
  return live !== undefined;
}

/**
 * Where traces go, from the standard variables: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it
 * is, else `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/traces`; none when `OTEL_SDK_DISABLED`
 * is true or `OTEL_TRACES_EXPORTER` is `none`.
 */
export function tracesEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true' || (env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? signalUrl(base) : undefined;
}

/** An OTLP base URL (`--otel http://collector:4318`) as the traces endpoint. */
export function signalUrl(base: string): string {
  return /\/v1\/traces\/?$/.test(base) ? base : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** Whether tool arguments may go on spans (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`), redacted. */
export function captureContent(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ?? '').toLowerCase() === 'true';
}

/** Adds a redactor every string attribute and failure message passes before it is recorded; the function returned removes it. */
export function redactSpansWith(redact: (text: string) => string): () => void {
  if (!live) return () => undefined;
  redactors.push(redact);
  return () => {
    const at = redactors.indexOf(redact);
    if (at >= 0) redactors.splice(at, 1);
  };
}

function redacted(text: string): string {
  let out = text;
  for (const r of redactors) out = r(out);
  return out;
}

function clean(attributes: Attributes): Api.Attributes {
  const out: Api.Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out[key] = typeof value === 'string' ? redacted(value) : value;
  }
  return out;
}

export interface TracingOptions {
  /** The traces endpoint (`http://host:4318/v1/traces`). */
  url: string;
  serviceVersion?: string;
  /** Told once when the collector cannot take the spans; the run goes on. */
  warn: (message: string) => void;
}

/** Bounds on export: a collector that is down or slow costs a run at most about this. */
const EXPORT_TIMEOUT_MS = 1000;
const SHUTDOWN_TIMEOUT_MS = 2000;
/** How long spans are dropped after an export failed, before the collector is tried again. */
const COLLECTOR_BACKOFF_MS = 30_000;

/**
 * Loads the SDK and starts recording spans, batched and exported to `url` as OTLP/HTTP
 * (JSON). The service is `orch` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES`
 * say otherwise. Calling it again does nothing.
 */
export async function startTracing(options: TracingOptions): Promise<void> {
  if (live) return;
  const [api, node, base, resources, otlp] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const inner = new otlp.OTLPTraceExporter({ url: options.url, timeoutMillis: EXPORT_TIMEOUT_MS });
  let warned = false;
  let resumeAt = 0;
  // The exporter's own failures are silent (the diag logger is off): one warning says spans are lost.
  // After a failure, batches are dropped for a while rather than sent: a collector that is down
  // costs one timeout, not one per batch, and the run's exit does not wait on it again.
  const exporter: SpanExporter = {
    export: (spans, done) => {
      if (Date.now() < resumeAt) return done({ code: 1 });
      inner.export(spans, (result) => {
        if (result.code !== 0) {
          resumeAt = Date.now() + COLLECTOR_BACKOFF_MS;
          if (!warned) options.warn(`orch: cannot send traces to ${options.url}: ${result.error?.message ?? 'export failed'}; the run goes on without them`);
          warned = true;
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
  const resource = resources
    .resourceFromAttributes({ 'service.name': 'orch', ...(options.serviceVersion !== undefined && { 'service.version': options.serviceVersion }) })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new node.NodeTracerProvider({
    resource,
    spanProcessors: [
      new base.BatchSpanProcessor(exporter, { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 500, exportTimeoutMillis: EXPORT_TIMEOUT_MS }),
    ],
  });
  provider.register();
  live = {
    api,
    tracer: api.trace.getTracer('orch', options.serviceVersion),
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
        timer.unref();
      });
      await Promise.race([provider.shutdown().catch(() => undefined), bounded]);
      clearTimeout(timer);
    },
  };
}

/** Sends what is left and stops recording; bounded, so an unreachable collector never holds orch up. */
export async function stopTracing(): Promise<void> {
  const current = live;
  live = undefined;
  redactors.length = 0;
  await current?.shutdown();
}

/**
 * Runs `fn` in a new span, a child of the current one (or of `carrier`'s, from another
 * process), ended when `fn` settles; a throw marks it failed. Without tracing, just `fn`.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: SpanHandle) => Promise<T>,
  options: { carrier?: Carrier; kind?: 'internal' | 'client' } = {},
): Promise<T> {
  const t = live;
  if (!t) return fn(NO_SPAN);
  const { api } = t;
  const parent = options.carrier ? api.propagation.extract(api.context.active(), options.carrier) : api.context.active();
  const kind = options.kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL;
  return t.tracer.startActiveSpan(name, { attributes: clean(attributes), kind }, parent, async (span) => {
    const handle: SpanHandle = {
      set: (a) => span.setAttributes(clean(a)),
      fail: (message) => span.setStatus({ code: api.SpanStatusCode.ERROR, message: redacted(message) }),
    };
    try {
      return await fn(handle);
    } catch (err) {
      handle.fail(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The current trace context as a carrier for a worker message, spread into it: `{...withCarrier()}`. */
export function withCarrier(): { carrier?: Carrier } {
  const t = live;
  if (!t) return {};
  const carrier: Carrier = {};
  t.api.propagation.inject(t.api.context.active(), carrier);
  return Object.keys(carrier).length > 0 ? { carrier } : {};
}

/** The ids of the current span, for audit lines; none without tracing. */
export function currentTraceIds(): Readonly<{ trace_id?: string; span_id?: string }> {
  const span = live?.api.trace.getActiveSpan();
  const c = span?.spanContext();
  return c && c.traceId !== '00000000000000000000000000000000' ? { trace_id: c.traceId, span_id: c.spanId } : NO_TRACE;
}

/** No trace: asked for on every tool call, so one frozen answer. */
const NO_TRACE: Readonly<{ trace_id?: string; span_id?: string }> = Object.freeze({});
