import { distance } from 'fastest-levenshtein';

/** The closest candidate to a mistyped word, when one is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Short words tolerate one slip; longer ones a swapped pair or a third of their letters.
  const allowed = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}

/** `['workflows', 'deploy', 2, 'gate']` → `workflows.deploy[2].gate`. */
export function formatKeyPath(keyPath: readonly (string | number)[]): string {
  let out = '';
  for (const segment of keyPath) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A hint: "did you mean `x`?" when a candidate is close to the word, else the fallback. */
export function suggestOr(word: string, candidates: readonly string[], fallback: string): string {
  const guess = suggest(word, candidates);
  return guess ? `did you mean \`${guess}\`?` : fallback;
}
