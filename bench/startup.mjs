// CLI start-up: wall time of `orch --version` and of `orch run <tool>` on a one-line script
// tool, median of several runs, with tracing off and with an OTLP collector on 127.0.0.1
// (a receiver that answers at once). Tracing off must cost nothing: no OpenTelemetry SDK
// module is loaded then, so the first two figures should match those before tracing existed;
// the traced figure shows what loading the SDK and sending the spans costs.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/orch.js', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-startup-'));
writeFileSync(path.join(dir, 'gantz.yaml'), 'name: startup\ntools:\n  hello:\n    script: { shell: "echo hi" }\n');

const collector = createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
await new Promise((resolve) => collector.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${collector.address().port}`;

/** Median wall time of `args` in ms; the collector answers from this process, so it runs asynchronously. */
async function median(args, env = {}) {
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = process.hrtime.bigint();
    await new Promise((resolve, reject) => {
      const child = spawnAsync(args, env);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`orch ${args.join(' ')} exited ${code}`))));
    });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

function spawnAsync(args, env) {
  const clean = { ...process.env, ...env };
  if (!('OTEL_EXPORTER_OTLP_ENDPOINT' in env)) delete clean.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete clean.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return spawn(process.execPath, [BIN, ...args], { cwd: dir, env: clean, stdio: 'ignore' });
}

try {
  spawnSync(process.execPath, [BIN, '--version']); // warm the file cache
  const version = await median(['--version']);
  const off = await median(['run', 'hello']);
  const on = await median(['run', 'hello'], { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
  console.log(`orch --version              ${version.toFixed(1)} ms (median of ${ROUNDS})`);
  console.log(`orch run hello, no tracing  ${off.toFixed(1)} ms`);
  console.log(`orch run hello, traced      ${on.toFixed(1)} ms (${(on / off).toFixed(2)}× untraced)`);
} finally {
  collector.close();
  rmSync(dir, { recursive: true, force: true });
}
