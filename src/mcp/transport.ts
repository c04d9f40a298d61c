import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerDef } from '../config/model.js';
import { buildServerEnv } from './env.js';
import { identify, PROCESS_TAG_VARIABLE, type ProcessIdentity } from '../process/identity.js';
import type { StderrTail } from './stderr-tail.js';

/**
 * The SDK's stdio transport, which owns the server process, plus one hook: the moment
 * the process exists, orch learns its identity, before `initialize` is even sent, so a
 * server that hangs at start-up can still be found and ended.
 */
export class SpawnAwareStdioTransport extends StdioClientTransport {
  /** Settles once the process exists and `onSpawn` has run, or it failed to spawn. */
  spawned: Promise<void> | undefined;

  constructor(
    params: ConstructorParameters<typeof StdioClientTransport>[0],
    private readonly onSpawn: (id: ProcessIdentity) => void,
  ) {
    super(params);
  }

  override start(): Promise<void> {
    this.spawned = this.spawnAndIdentify();
    return this.spawned;
  }

  private async spawnAndIdentify(): Promise<void> {
    await super.start();
    const id = this.pid === null ? undefined : identify(this.pid);
    if (id) this.onSpawn(id);
  }
}

export interface TransportHooks {
  parentEnv: NodeJS.ProcessEnv;
  stderr: StderrTail;
  onSpawn: (id: ProcessIdentity) => void;
  /** The server's tag, inherited by all it starts, so that its whole session can be ended. */
  tag: string;
}

/**
 * The transport for one server: a child process for `command`, Streamable HTTP for `url`,
 * or the legacy HTTP+SSE transport for `type: sse`.
 */
export function createTransport(def: McpServerDef, hooks: TransportHooks): Transport {
  if (def.transport === 'http' || def.transport === 'sse') {
    if (!def.url) throw new Error(`server "${def.name}" has no url`); // the schema requires one
    const url = new URL(def.url);
    if (def.transport === 'http') return new StreamableHTTPClientTransport(url, { requestInit: { headers: def.headers } });
    // The SDK sends these headers on the event stream's GET as well as on each POST.
    return new SSEClientTransport(url, { requestInit: { headers: def.headers } });
  }
  if (!def.command) throw new Error(`server "${def.name}" has no command`); // the schema requires one
  const transport = new SpawnAwareStdioTransport(
    {
      command: def.command,
      args: def.args,
      env: { ...buildServerEnv(def.env, hooks.parentEnv), [PROCESS_TAG_VARIABLE]: hooks.tag },
      cwd: def.cwd,
      // Piped, never inherited: a server's chatter must not interleave with orch's output,
      // and its last words are what a start-up or crash error shows.
      stderr: 'pipe',
    },
    hooks.onSpawn,
  );
  transport.stderr?.on('data', (chunk: Buffer) => hooks.stderr.push(chunk));
  return transport;
}

