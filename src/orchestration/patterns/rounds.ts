/**
 * Round-by-round coordination of members that run at once (peer-to-peer, swarm): each
 * member arrives at the end of its round with what it produced, and waits until every
 * member still taking part has arrived. A member that fails leaves, so the rest never
 * wait for it.
 */
export class Rounds<T> {
  private readonly active: Set<string>;
  private readonly arrived = new Map<number, Map<string, T>>();
  private readonly waiting = new Map<number, ((round: ReadonlyMap<string, T>) => void)[]>();

  constructor(members: readonly string[]) {
    this.active = new Set(members);
  }

  /** Resolves with every active member's contribution to `round`, once all have arrived, in member order. */
  arrive(round: number, member: string, value: T): Promise<ReadonlyMap<string, T>> {
    const got = this.arrived.get(round) ?? new Map<string, T>();
    this.arrived.set(round, got);
    got.set(member, value);
    const done = new Promise<ReadonlyMap<string, T>>((resolve) => this.waiting.set(round, [...(this.waiting.get(round) ?? []), resolve]));
    this.settle(round);
    return done;
  }

  /** The member takes no further part: rounds it has not reached stop waiting for it. */
  leave(member: string): void {
    this.active.delete(member);
    for (const round of this.waiting.keys()) this.settle(round);
  }

  has(member: string): boolean {
    return this.active.has(member);
  }

  private settle(round: number): void {
    const got = this.arrived.get(round);
    if (!got || ![...this.active].every((m) => got.has(m))) return;
    // In member order, not arrival order: what a member hears next round is the same text every run.
    const result = new Map([...this.active].map((m): [string, T] => [m, got.get(m) as T]));
    for (const resolve of this.waiting.get(round) ?? []) resolve(result);
    this.waiting.delete(round);
  }
}

/** Whether every value is the same JSON (key order aside): the members agree. */
export function unanimous(values: readonly unknown[]): boolean {
  if (values.length === 0) return false;
  const first = canonical(values[0]);
  return values.every((v) => canonical(v) === first);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
