import { inspectProject, type Inspection, type LoadOptions } from '../config/load.js';
import type { Issue } from '../errors.js';
import type { Supervisor } from './supervisor.js';

export interface ValidateOptions extends LoadOptions {
  /** Also start the MCP servers and check tool names against their real tool lists. */
  connect?: boolean;
  /**
   * Runs the `connect` check while its servers run; the CLI passes its signal handling here
   * (Ctrl-C ends the servers, then orch). By default the check runs as it is.
   */
  guard?: <T>(supervisor: Supervisor, body: () => Promise<T>) => Promise<T>;
}

export interface Validation extends Inspection {
  /** No issue is an error. */
  ok: boolean;
}

const hasErrors = (issues: readonly Issue[]): boolean => issues.some((i) => i.severity === 'error');

/**
 * What `orch validate` checks: schemas and cross-file rules, and with `connect` the tool
 * names only a running server can confirm (every server it starts is shut down before it
 * resolves). Problems are issues in the result, never thrown.
 */
export async function validateProject(options: ValidateOptions = {}): Promise<Validation> {
  const { connect, guard, ...load } = options;
  const inspection = await inspectProject(load);
  // Validation checks every server, needed by the command at hand or not.
  let issues = [...inspection.issues, ...inspection.serverIssues];
  if (connect && inspection.project && !hasErrors(issues)) {
    // Loaded only when asked: it brings the MCP client and supervision with it.
    const [{ checkServerTools }, { Supervisor }, { resolveStateDir }] = await Promise.all([import('./check.js'), import('./supervisor.js'), import('../state/state-dir.js')]);
    const project = inspection.project;
    const supervisor = new Supervisor(project.servers.values(), { stateDir: resolveStateDir(project.dir, load.env), env: load.env });
    const check = async () => {
      try {
        return await checkServerTools(supervisor, project, inspection.unverified);
      } finally {
        await supervisor.shutdown();
      }
    };
    const found = await (guard ? guard(supervisor, check) : check());
    issues = [...issues.filter((i) => i.code !== 'ORCH_TOOL_UNVERIFIED'), ...found];
  }
  return { ...inspection, issues, ok: !hasErrors(issues) };
}
