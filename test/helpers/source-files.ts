import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Every TypeScript file under `src/`, as a path relative to the repository (`src/cli/main.ts`), sorted. */
export function sourceFiles(): string[] {
  return readdirSync(path.join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.posix.join('src', f.split(path.sep).join('/')))
    .sort();
}

export function readRepoFile(file: string): string {
  return readFileSync(path.join(repoRoot, file), 'utf8');
}
