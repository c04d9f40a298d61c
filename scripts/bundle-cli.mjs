// Part of `npm run build`, last: bundles the CLI (dist/cli/main.js, and worker-main.js for
// process workers) with esbuild into dist/bundle/, which bin/orch.js runs. Each command
// then starts from a few files instead of resolving and reading some hundreds of modules,
// which cost about a third of its start-up. What a command imports lazily stays in chunks
// of its own; the packages below are left out of the bundle altogether: the lazily loaded
// engines, exporters and SDKs (BullMQ, OpenTelemetry, A2A, the AI SDK), which tests and
// users see loaded by their own module paths, tsx (whose loader runs from its own files)
// and express. The programmatic API (dist/index.js) stays tsc's output.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
rmSync(`${dist}bundle`, { recursive: true, force: true });
await build({
  absWorkingDir: dist,
  entryPoints: { main: 'cli/main.js', 'worker-main': 'cli/worker-main.js' },
  outdir: 'bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The ES module build of a package where it has one (jsonc-parser's UMD build requires by relative path).
  mainFields: ['module', 'main'],
  external: ['bullmq', 'ioredis', '@opentelemetry/*', '@a2a-js/sdk', '@a2a-js/sdk/*', 'ai', '@ai-sdk/*', 'tsx', 'tsx/*', 'express'],
  // CommonJS packages in the bundle require Node's built-ins: give each chunk a require.
  banner: { js: "import { createRequire as __orchCreateRequire } from 'node:module'; const require = __orchCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
