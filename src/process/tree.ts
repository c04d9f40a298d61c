import { setTimeout as sleep } from 'node:timers/promises';
import { descendants, isRunning, markedProcesses, signal, type Marks, type ProcessIdentity } from './identity.js';
import { runStopSequence, type StopTimings } from './stop.js';

const POLL_MS = 20;
/** After SIGKILL the kernel needs a moment; waiting longer would not help. */
const KILL_WAIT_MS = 1000;

/**
 * A server's process and every descendant seen so far. Members are remembered because a
 * descendant whose parent dies is re-parented to init and can no longer be found by
 * walking down from the server's pid. With `marks`, whatever carries the root's tag or
 * holds its pipes is a member too: a double-forked daemon, a `setsid` child.
 */
export class ProcessTree {
  private readonly members = new Map<number, ProcessIdentity>();

  constructor(
    readonly root: ProcessIdentity,
    private readonly marks: Marks = {},
  ) {
    this.members.set(root.pid, root);
  }

  /** Adds the current descendants of every live member, and marked processes; true when any were new. */
  refresh(): boolean {
    const before = this.members.size;
    for (const member of markedProcesses(this.marks)) this.adopt(member);
    for (const member of this.alive()) {
      for (const child of descendants(member.pid)) this.adopt(child);
    }
    return this.members.size > before;
  }

  /** Makes `id` a member: it is signalled and waited for with the rest. */
  adopt(id: ProcessIdentity): void {
    const known = this.members.get(id.pid);
    if (!known || known.startTime !== id.startTime) this.members.set(id.pid, id);
  }

  /** Every member ever seen, live or not, the root first. */
  get all(): ProcessIdentity[] {
    return [...this.members.values()];
  }

  alive(): ProcessIdentity[] {
    return [...this.members.values()].filter(isRunning);
  }

  signalAll(sig: NodeJS.Signals): void {
    for (const member of this.alive()) signal(member, sig);
  }

  /** Waits until every member has ended, at most `ms`; true when they all have. */
  async waitForExit(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.alive().length > 0) {
      if (Date.now() >= deadline) return false;
      // Deliberately ref'd: once the server's own pipes have closed, this bounded wait may
      // be all that keeps orch alive long enough to end a lingering grandchild.
      await sleep(POLL_MS);
    }
    return true;
  }

  /**
   * Ends a tree nobody else owns (an orphan's): wait → SIGTERM → wait → SIGKILL, each for
   * the whole tree, so that a grandchild ignoring SIGTERM is not left behind. Its input, if
   * any, was ended by whoever held it.
   */
  stop(timings: StopTimings): Promise<void> {
    return this.stopMembers(timings, () => true);
  }

  /**
   * Ends what the root's owner (the MCP SDK's stdio transport) left behind once it has
   * stopped the root: the same stages for every other member, the root never signalled.
   * Still waits for the root too, so that nothing of the tree runs when it resolves.
   */
  stopLeftovers(timings: StopTimings): Promise<void> {
    return this.stopMembers(timings, (member) => member.pid !== this.root.pid);
  }

  private stopMembers(timings: StopTimings, mine: (member: ProcessIdentity) => boolean): Promise<void> {
    // Refreshed before each stage: a member may have started children since the last one.
    this.refresh();
    return runStopSequence(
      {
        signal: (sig) => {
          this.refresh();
          for (const member of this.alive()) if (mine(member)) signal(member, sig);
        },
        exited: (ms) => this.waitForExit(ms),
      },
      { ...timings, killWaitMs: KILL_WAIT_MS },
    );
  }
}
