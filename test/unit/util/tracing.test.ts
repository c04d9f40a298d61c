import { describe, expect, it } from 'vitest';
import { captureContent, currentTraceIds, inSpan, signalUrl, tracesEndpoint, tracingOn, withCarrier } from '../../../src/util/tracing.js';

describe('where traces go', () => {
  it.each([
    [{}, undefined],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'http://collector:4318/v1/traces'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'http://collector:4318/v1/traces'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' }, 'http://b:9999/custom'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, undefined],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'true' }, undefined],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' }, undefined],
  ])('from %j: %s', (env, url) => {
    expect(tracesEndpoint(env)).toBe(url);
  });

  it('takes --otel as a base URL, or as the traces endpoint when it already is one', () => {
    expect(signalUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/traces');
    expect(signalUrl('https://otel.example/v1/traces')).toBe('https://otel.example/v1/traces');
  });

  it('captures tool arguments only when asked', () => {
    expect(captureContent({})).toBe(false);
    expect(captureContent({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'TRUE' })).toBe(true);
  });
});

describe('with tracing off', () => {
  it('runs the work as it is: no span, no carrier, no ids, a throw passes through', async () => {
    expect(tracingOn()).toBe(false);
    expect(await inSpan('step x', { a: 1 }, async (span) => {
      span.set({ b: 2 });
      span.fail('nothing happens');
      return 42;
    })).toBe(42);
    await expect(inSpan('step y', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(withCarrier()).toEqual({});
    expect(currentTraceIds()).toEqual({});
  });
});
