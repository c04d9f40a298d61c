import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * orch's package directory (where its package.json, schemas/, templates/ and python/ are),
 * found by walking up from this module: from the sources (src/util), the compiled API
 * (dist/util) and the CLI's bundle (dist/bundle, where this module is part of a chunk) alike.
 */
function findPackageRoot(): { root: string; version: string } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'orch' && typeof pkg.version === 'string') return { root: dir, version: pkg.version };
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`orch's package.json was not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const found = findPackageRoot();

/** The version in orch's package.json. */
export const packageVersion = found.version;

/** A path inside orch's package directory, e.g. `packagePath('schemas')`. */
export function packagePath(...segments: string[]): string {
  return path.join(found.root, ...segments);
}
