import { inspectProject, type Inspection, type LoadOptions } from '../config/load.js';
import type { Issue } from '../errors.js';

export interface ValidateOptions extends LoadOptions {
  /** Also start the MCP servers and check tool names against their real tool lists. */
  connect?: boolean;
  /** While servers run for `connect`, end them on SIGINT/SIGTERM and exit: the CLI's choice. */
  handleSignals?: boolean;
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
  const { connect, handleSignals, ...load } = options;
  const inspection = await inspectProject(load);
  let { issues } = inspection;
  if (connect && inspection.project && !hasErrors(issues)) {
    // Loaded only when asked: it brings the MCP client and supervision with it.
    const { checkServerTools } = await import('./check.js');
    const found = await checkServerTools(inspection.project, inspection.unverified, {
      handleSignals: handleSignals === true,
      env: load.env,
    });
    issues = [...issues.filter((i) => i.code !== 'ORCH_TOOL_UNVERIFIED'), ...found];
  }
  return { ...inspection, issues, ok: !hasErrors(issues) };
}
