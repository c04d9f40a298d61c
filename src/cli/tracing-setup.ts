import { OrchError } from '../errors.js';
import { secretsRedactor } from '../secrets/redact.js';
import { redactSpansWith, signalUrl, startTracing, tracesEndpoint } from '../util/tracing.js';
import { packageVersion } from '../util/package-root.js';

/**
 * Starts tracing for this process when `--otel <url>` or the standard variables ask for it.
 * `--otel` is written into the environment as the traces endpoint, so child-process workers
 * this run forks export to the same collector. Failing exports only warn, on stderr.
 */
export async function startCliTracing(
  flag: string | undefined,
  stderr: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (flag !== undefined) {
    if (!/^https?:\/\/[^\s/]+/i.test(flag)) {
      throw new OrchError('ORCH_USAGE', `--otel ${flag} is not an http(s) URL`, { hint: 'give the collector\'s OTLP/HTTP address, e.g. --otel http://127.0.0.1:4318' });
    }
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = signalUrl(flag);
  }
  const url = tracesEndpoint(env);
  if (!url) return;
  const redactor = secretsRedactor(env, []);
  // A URL may carry credentials (`https://user:token@collector`): the warning shows it redacted.
  await startTracing({ url, serviceVersion: packageVersion, warn: (message) => stderr.write(`${redactor.redactString(message)}\n`) });
  // The environment's secrets never reach a span, whatever a tool or a model echoes.
  redactSpansWith((text) => redactor.redactString(text));
}
