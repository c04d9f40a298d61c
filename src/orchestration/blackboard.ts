/** One key of the board: its value, a version bumped on every write, and who wrote it. */
export interface BoardEntry {
  value: unknown;
  version: number;
  updatedBy: string | null;
}

export type CommitResult = { ok: true; versions: Record<string, number> } | { ok: false; conflicts: string[] };

/**
 * Shared state agents read and write. Writes are compare-and-set against the versions
 * the writer read: a write based on a stale read is refused as a whole, so the writer
 * re-reads and tries again instead of silently overwriting another agent's update.
 */
export class Blackboard {
  private readonly entries = new Map<string, BoardEntry>();

  constructor(initial: Record<string, unknown> = {}) {
    for (const [key, value] of Object.entries(initial)) this.entries.set(key, { value, version: 1, updatedBy: null });
  }

  /**
   * Values and versions as of now, keys in order; absent keys are version 0. Sorted, so the
   * board a member reads (an LLM's prompt, a recording's digest) is the same whichever write landed first.
   */
  snapshot(): { values: Record<string, unknown>; versions: Record<string, number> } {
    const values: Record<string, unknown> = {};
    const versions: Record<string, number> = {};
    for (const [key, entry] of [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      values[key] = entry.value;
      versions[key] = entry.version;
    }
    return { values, versions };
  }

  read(key: string): BoardEntry | undefined {
    return this.entries.get(key);
  }

  /** Writes every key, or none if any changed since the versions in `seen`. */
  compareAndSet(writes: Record<string, unknown>, seen: Record<string, number>, writer: string | null): CommitResult {
    const conflicts = Object.keys(writes).filter((key) => (this.entries.get(key)?.version ?? 0) !== (seen[key] ?? 0));
    if (conflicts.length > 0) return { ok: false, conflicts };
    const versions: Record<string, number> = {};
    for (const [key, value] of Object.entries(writes)) {
      const version = (this.entries.get(key)?.version ?? 0) + 1;
      this.entries.set(key, { value, version, updatedBy: writer });
      versions[key] = version;
    }
    return { ok: true, versions };
  }

  toJSON(): Record<string, BoardEntry> {
    return Object.fromEntries(this.entries);
  }
}
