import { appendFile, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Project, WorkflowDef } from '../config/model.js';
import { formatDuration } from '../config/duration.js';
import { usageText } from './ui/usage.js';
import { ExitCode, OrchError } from '../errors.js';
import { explainFsError } from '../util/fs-errors.js';
import { Supervisor } from '../mcp/supervisor.js';
import { resolveStateDir } from '../state/state-dir.js';
import { silentLogger, streamLogger } from '../tools/context.js';
import { killRunningScripts } from '../tools/script.js';
import { githubAnnotations, junitReport, markdownSummary, runReport } from '../workflow/report.js';
import type { SessionOptions, SessionResult } from '../workflow/session.js';
import type { RunState } from '../state/run-state.js';
import type { RunEvent } from '../state/events.js';
import { isHalted } from '../state/halt.js';
import type { GlobalOptions, Io } from './context.js';
import type { WorkflowFlags } from './flags.js';
import { cassetteOf } from './run-flags.js';
import { terminalGate } from './ui/gate-prompt.js';
import { StepView } from './ui/step-view.js';
import { inspectStepLine } from './step-lines.js';
import { reportTarget } from './report/target.js';

/** A resumed run that had already succeeded. */
export function reportNothingToDo(globals: GlobalOptions, io: Io, state: RunState): number {
  if (globals.json) {
    io.stdout.write(`${JSON.stringify({ run_id: state.runId, workflow: state.workflow, status: state.status, nothing_to_do: true })}\n`);
  }
  else if (!globals.quiet) io.stdout.write(`run ${state.runId} already succeeded; nothing to do\n`);
  return ExitCode.ok;
}

/**
 * Runs a workflow session (new or resumed) with the terminal wired up — prompt, live
 * steps, logger — then reports it for people or CI and returns the exit code.
 */
export async function driveWorkflow(
  globals: GlobalOptions,
  io: Io,
  project: Project,
  workflow: WorkflowDef,
  flags: WorkflowFlags,
  session: (options: SessionOptions) => Promise<SessionResult>,
  /** A new run, which the kill switch (`orch stop --all`) refuses; a resume is the user's explicit choice and goes ahead. */
  newRun = false,
): Promise<number> {
  const unknown = (flags.approve ?? []).filter((id) => !workflow.steps.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new OrchError('ORCH_USAGE', `--approve names no step of \`${workflow.name}\`: ${unknown.join(', ')}`, {
      hint: `its steps: ${workflow.steps.map((s) => s.id).join(', ')}`,
    });
  }
  const reportFile = flags.report === undefined ? undefined : await reportTarget(flags.report, '--report', 'the JUnit XML file', 'junit.xml');
  const htmlFile = flags.reportHtml === undefined ? undefined : await reportTarget(flags.reportHtml, '--report-html', 'an HTML file', 'report.html');
  const tty = io.stdin.isTTY === true && io.stderr.isTTY === true;
  const view = io.stderr.isTTY && !globals.quiet ? new StepView(io.stderr, globals.color) : undefined;
  const ask = tty ? terminalGate(io.stdin, io.stderr, () => view?.pause(), () => view?.resume()) : undefined;
  const logger = globals.quiet || !io.stderr.isTTY ? silentLogger : streamLogger(io.stderr, '', globals.verbose);

  const supervisor = project.servers.size > 0 ? new Supervisor(project.servers.values(), { stateDir: resolveStateDir(project.dir) }) : undefined;
  const interrupt = interruptOnSignals(() => {
    // Asked twice: end every child now and leave; the journal already says what finished.
    killRunningScripts();
    for (const name of supervisor?.names() ?? []) supervisor?.server(name).killNow();
  });
  // A run that got past the check before `orch stop --all` turned the switch on stops at its first event.
  const stateDir = resolveStateDir(project.dir);
  let checked = !newRun;
  const onEvent = (event: RunEvent): void => {
    view?.onEvent(event);
    if (checked) return;
    checked = true;
    if (isHalted(stateDir)) interrupt.abort('SIGTERM');
  };
  let result: SessionResult;
  try {
    result = await session({
      project,
      workflow,
      approve: new Set(flags.approve ?? []),
      approveAll: flags.approveAll === true,
      ask,
      logger,
      onEvent,
      supervisor,
      signal: interrupt.signal,
      cassette: cassetteOf(flags, project.dir),
    });
  } finally {
    interrupt.uninstall();
    view?.stop();
    await supervisor?.shutdown();
  }
  if (result.nothingToDo) return reportNothingToDo(globals, io, result.state);
  const report = runReport(result.state, workflow);
  const skipReasons = new Map([...result.state.steps.values()].filter((s) => s.skipReason).map((s) => [s.id, s.skipReason ?? '']));
  if (reportFile) await writeReport(reportFile, junitReport(report, skipReasons));
  if (htmlFile) {
    const { loadTimeline, writeHtmlReport } = await import('./report/load.js');
    const agents = new Map(workflow.steps.map((s) => [s.id, s.agent]));
    await writeHtmlReport(htmlFile, await loadTimeline(resolveStateDir(project.dir), result.state.runId, async () => agents), '--report-html');
  }
  if (process.env.GITHUB_ACTIONS === 'true') await github(report, project, workflow, globals, io);

  if (globals.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (!globals.quiet) io.stdout.write(summary(report, result, globals));

  switch (result.outcome) {
    case 'succeeded':
      return ExitCode.ok;
    case 'failed':
      return ExitCode.runFailed;
    case 'paused':
      return ExitCode.paused;
    case 'interrupted':
      return result.signal === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint;
    default: {
      const never: never = result.outcome;
      return never;
    }
  }
}

async function writeReport(file: string, xml: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, xml);
  } catch (err) {
    const { what } = explainFsError(err, file);
    throw new OrchError('ORCH_REPORT_WRITE', `cannot write the --report file ${file}: ${what}`, {
      hint: 'the run itself is recorded (`orch logs <run>` shows it); give --report a writable file',
      cause: err,
    });
  }
}

/**
 * Ctrl-C (or SIGTERM) cancels the run: its signal aborts with the signal's name, running
 * steps are cancelled and the run is journalled `interrupted`. A second one forces.
 */
function interruptOnSignals(force: () => void): { signal: AbortSignal; abort: (reason: 'SIGTERM') => void; uninstall: () => void } {
  const controller = new AbortController();
  const on = (sig: 'SIGINT' | 'SIGTERM') => () => {
    if (controller.signal.aborted) {
      force();
      process.exit(sig === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm);
    }
    controller.abort(sig);
  };
  const sigint = on('SIGINT');
  const sigterm = on('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    uninstall: () => {
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
    },
  };
}

/** A step's output on one line, cut to a length a terminal line can show. */
function oneLine(output: unknown): string {
  const text = typeof output === 'string' ? output.replace(/\s+/g, ' ').trim() : JSON.stringify(output);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

function summary(report: ReturnType<typeof runReport>, result: SessionResult, globals: GlobalOptions): string {
  const width = Math.max(...report.steps.map((s) => s.id.length));
  const lines = [`${report.workflow} ${report.status} (run ${report.run_id})`];
  for (const s of report.steps) {
    const time = s.duration_ms === null ? '' : formatDuration(s.duration_ms).padStart(7);
    const skipped = s.status === 'skipped' ? `  ${result.state.steps.get(s.id)?.skipReason ?? ''}` : '';
    const detail = s.error ? `  ${s.error.split('\n')[0] ?? ''}` : skipped;
    const usage = s.usage ? `  (${usageText({ ...s.usage, cost_usd: s.cost_usd })})` : '';
    lines.push(`  ${s.id.padEnd(width)}  ${s.status.padEnd(9)} ${time}${usage}${detail}`);
  }
  if (report.usage) lines.push(`  total: ${usageText({ ...report.usage, cost_usd: report.cost_usd })}`);
  const last = [...report.steps].reverse().find((s) => s.status === 'succeeded');
  if (result.outcome === 'succeeded' && last && last.output !== null && last.output !== '') {
    const text = typeof last.output === 'string' ? last.output : stringify(last.output).trimEnd();
    lines.push('', `output of ${last.id}:`, ...text.split('\n').map((l) => `  ${l}`));
  }
  if (result.outcome === 'paused') {
    const cd = globals.dir === process.cwd() ? '' : ` -C ${JSON.stringify(globals.dir)}`;
    const waiting = report.steps.filter((s) => s.status === 'waiting').map((s) => s.id);
    const asks = (id: string) => report.steps.find((s) => s.id === id)?.pending_tool_call?.tool === 'ask_human';
    const what = waiting.every(asks) ? 'an answer' : waiting.some(asks) ? 'approval or an answer' : 'approval';
    lines.push('', `Paused: ${waiting.map((w) => `\`${w}\``).join(', ')} await${waiting.length === 1 ? 's' : ''} ${what}. Decide with:`);
    for (const s of report.steps) {
      if (s.pending_tool_call?.tool === 'ask_human') lines.push(`  (${s.id}: the agent asks: ${oneLine(s.pending_tool_call.input.question ?? s.pending_tool_call.input)})`);
      else if (s.pending_tool_call) lines.push(`  (${s.id}: the model wants to call ${s.pending_tool_call.tool} ${JSON.stringify(s.pending_tool_call.input)})`);
      // A gate after the step: what it returned is what the person decides on.
      else if (s.status === 'waiting' && result.state.steps.get(s.id)?.completed) lines.push(`  (${s.id} returned ${oneLine(s.output)})`);
    }
    for (const w of waiting) {
      const decide = asks(w) ? `  orch${cd} answer ${report.run_id} ${w} '...'` : `  orch${cd} approve ${report.run_id} ${w}`;
      lines.push(decide, `  orch${cd} reject ${report.run_id} ${w} --reason '...'`);
    }
    lines.push(`then continue with:`, `  orch${cd} resume ${report.run_id}`);
  }
  if (result.outcome === 'failed' || result.outcome === 'interrupted') {
    const cd = globals.dir === process.cwd() ? '' : ` -C ${JSON.stringify(globals.dir)}`;
    const rejected = report.steps.filter((s) => s.status === 'rejected').map((s) => s.id);
    if (rejected.length > 0) {
      // Resuming alone would fail the same way: the rejection stands until reconsidered.
      lines.push('', `Rejected: ${rejected.map((r) => `\`${r}\``).join(', ')}. To reconsider, approve and resume:`);
      for (const r of rejected) lines.push(`  orch${cd} approve ${report.run_id} ${r}`);
      lines.push(`  orch${cd} resume ${report.run_id}`);
    } else {
      lines.push('', `Continue it later with: orch${cd} resume ${report.run_id}   (finished steps are not run again)`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function github(
  report: ReturnType<typeof runReport>,
  project: Project,
  workflow: WorkflowDef,
  globals: GlobalOptions,
  io: Io,
): Promise<void> {
  const file = project.files.team ? path.relative(process.cwd(), project.files.team) : undefined;
  const lines = githubAnnotations(report, (id) => ({ file, line: inspectStepLine(workflow, id) }));
  // Workflow commands are read from the log; with --json, stdout carries only the document.
  const out = globals.json ? io.stderr : io.stdout;
  for (const line of lines) out.write(`${line}\n`);
  const summaryFile = process.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) await appendFile(summaryFile, `${markdownSummary(report)}\n`);
}
