import { loadProject } from '../../config/load.js';
import { suggest } from '../../util/suggest.js';
import { ExitCode, OrchError } from '../../errors.js';
import { mermaid } from '../../workflow/plan.js';
import type { GlobalOptions, Io } from '../context.js';
import { processIo } from '../context.js';

/** `orch graph <workflow>`: the workflow as a Mermaid flowchart. */
export async function run(globals: GlobalOptions, name: string, _flags?: unknown, _command?: unknown, io: Io = processIo): Promise<number> {
  const { project } = await loadProject({ dir: globals.dir, config: globals.config, team: globals.team });
  const workflow = project.workflows.get(name);
  if (!workflow) {
    const names = [...project.workflows.keys()];
    const guess = suggest(name, names);
    throw new OrchError('ORCH_UNKNOWN_WORKFLOW', `no workflow named \`${name}\``, {
      hint: guess ? `did you mean \`${guess}\`?` : names.length ? `workflows: ${names.join(', ')}` : 'agent-team.yaml declares no workflows',
    });
  }
  const text = mermaid(workflow);
  io.stdout.write(globals.json ? `${JSON.stringify({ workflow: name, mermaid: text })}\n` : text);
  return ExitCode.ok;
}
