import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN } from './cli.js';

/** An MCP SDK client talking to `orch serve` over stdio in a project; `env` adds to the server's minimal environment. */
export async function connectServe(
  dir: string,
  env: Record<string, string> = {},
): Promise<{ client: Client; transport: StdioClientTransport; pid: number | undefined }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, '-C', dir, 'serve'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'orch-e2e', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport, pid: transport.pid ?? undefined };
}
