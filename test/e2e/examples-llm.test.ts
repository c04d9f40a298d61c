import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

// The LLM versions of the seven coordination patterns (examples/<pattern>-llm), each run as a
// user would, offline from its committed recordings: no key, no provider, all at once.
const EXAMPLES = {
  'centralized-llm': ['run', 'review_change'],
  'hierarchical-llm': ['run', 'plan_launch'],
  'pipeline-llm': ['run', 'answer_ticket'],
  'auction-llm': ['run', 'translate'],
  'peer-to-peer-llm': ['run', 'orchestrate', '--input', '@task.json'],
  'blackboard-llm': ['run', 'orchestrate', '--input', '@task.json'],
  'swarm-llm': ['run', 'orchestrate', '--input', '@task.json'],
} as const;
type Name = keyof typeof EXAMPLES;
const OFFLINE = { ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', NO_COLOR: '1' };
const root = fileURLToPath(new URL('../../examples/', import.meta.url));

interface Ran {
  dir: string;
  code: number | undefined;
  stderr: string;
  report: Record<string, unknown>;
}
const ran = new Map<Name, Ran>();
let scratch = '';

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'orch-examples-llm-'));
  await Promise.all(
    (Object.keys(EXAMPLES) as Name[]).map(async (name) => {
      const dir = path.join(scratch, name);
      cpSync(path.join(root, name), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}.orch`) });
      // -C and a relative --replay: the folder is the project's, as the examples' README says.
      const r = await execa(process.execPath, [BIN, '-C', dir, '--json', ...EXAMPLES[name], '--replay', 'cassettes'], {
        cwd: scratch,
        env: OFFLINE,
        reject: false,
        stdin: 'ignore',
      });
      ran.set(name, { dir, code: r.exitCode, stderr: r.stderr, report: r.exitCode === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : {} });
    }),
  );
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function result(name: Name): Ran {
  const r = ran.get(name);
  if (!r) throw new Error(`${name} did not run`);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** The only step's output of a workflow example. */
const output = (name: Name): Record<string, unknown> => ((result(name).report.steps as { output: Record<string, unknown> }[])[0]?.output ?? {});

interface JournalEvent {
  type: string;
  call_id?: string;
  tool?: string;
  via?: string;
  agent?: string;
  turn?: number;
  input?: { agent?: string; task?: unknown };
}

function runJournal(name: Name): JournalEvent[] {
  const runs = path.join(result(name).dir, '.orch', 'runs');
  const [id] = readdirSync(runs);
  return readFileSync(path.join(runs, id ?? '', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalEvent);
}

/** Who made each delegation, by call id: `null` for the step's own agent. */
function delegations(journal: JournalEvent[]): Map<string, { by: string | null; to: string; via: string | undefined }> {
  const calls = new Map<string, { by: string | null; to: string; via: string | undefined }>();
  for (const e of journal) {
    if (e.type === 'tool_call_started' && e.tool === 'dispatch_to_agent' && e.call_id) calls.set(e.call_id, { by: e.agent ?? null, to: String(e.input?.agent), via: e.via });
  }
  return calls;
}

/** The agents whose model answered, by how many turns each took. */
function turnsByAgent(journal: JournalEvent[], lead: string): Record<string, number> {
  const turns: Record<string, number> = {};
  for (const e of journal) if (e.type === 'model_turn') turns[e.agent ?? lead] = (turns[e.agent ?? lead] ?? 0) + 1;
  return turns;
}

/** The request text of the recording a replayed model call matched, by its label. */
function recordedPrompts(name: Name, label: string): string[] {
  const dir = path.join(result(name).dir, 'cassettes');
  return readdirSync(dir)
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { label: string; request: { body: { messages: { content: { text?: string }[] }[] } } })
    .filter((r) => r.label === label)
    .map((r) => r.request.body.messages[0]?.content[0]?.text ?? '');
}

describe('the LLM pattern examples run offline from their recordings', () => {
  it('centralized: the orchestrator dispatches to both specialists in one turn, in parallel, and synthesises their findings', () => {
    expect(output('centralized-llm')).toEqual({
      verdict: 'request_changes',
      findings: [
        { from: 'security-reviewer', issue: expect.stringContaining('injection') },
        { from: 'performance-reviewer', issue: expect.stringContaining('N+1') },
      ],
    });
    const journal = runJournal('centralized-llm');
    const calls = delegations(journal);
    expect([...calls.values()]).toEqual([
      { by: null, to: 'security-reviewer', via: undefined },
      { by: null, to: 'performance-reviewer', via: undefined },
    ]);
    // Both delegations were under way before either came back.
    const started = journal.map((e, i) => (e.type === 'tool_call_started' && e.tool === 'dispatch_to_agent' ? i : -1)).filter((i) => i >= 0);
    const firstBack = journal.findIndex((e) => e.type === 'tool_call_finished' && e.tool === 'dispatch_to_agent');
    expect(started.every((i) => i < firstBack)).toBe(true);
    // Each specialist read the change with its own tool; the orchestrator never did.
    const reads = journal.filter((e) => e.type === 'tool_call_started' && e.tool === 'read_change').map((e) => e.agent);
    expect(reads.sort()).toEqual(['performance-reviewer', 'security-reviewer']);
    expect(turnsByAgent(journal, 'orchestrator')).toEqual({ orchestrator: 2, 'security-reviewer': 2, 'performance-reviewer': 2 });
  });

  it('centralized: with orchestration.monitor: llm, monitor_agents has the orchestrator\'s model recommend on the pools', async () => {
    const { dir } = result('centralized-llm');
    const r = await execa(process.execPath, [BIN, '-C', dir, '--json', 'run', 'monitor_agents', '--replay', 'cassettes'], { env: OFFLINE, reject: false, stdin: 'ignore' });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { recommended_by: string; recommended_actions: { agent_type: string; action: string; count?: number }[]; recommendations: string[]; advice_task: string };
    expect(report.recommended_by).toBe('model');
    expect(report.recommended_actions.filter((a) => a.action !== 'none')).toEqual([expect.objectContaining({ agent_type: 'security-reviewer', action: 'scale_up', count: 2 })]);
    expect(report.recommendations).toEqual([expect.stringMatching(/^scale security-reviewer to 2 \(orch scale --agent-type security-reviewer --count 2\): /)]);
    const decision = readFileSync(path.join(dir, '.orch', 'tasks', report.advice_task, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; decision?: string; usage?: unknown }).find((e) => e.type === 'llm_decision');
    expect(decision).toMatchObject({ decision: 'monitor', agent: 'orchestrator', usage: { input_tokens: 734, output_tokens: 121 } });
  });

  it('hierarchical: the lead delegates to the managers, each manager to its own specialists, three levels deep', () => {
    expect(output('hierarchical-llm')).toMatchObject({ total_days: 10, launch_in_weeks: 3 });
    const calls = delegations(runJournal('hierarchical-llm'));
    const depth = (id: string | undefined): number => (id === undefined ? 0 : 1 + depth(calls.get(id)?.via));
    const tree = [...calls.entries()].map(([id, c]) => [c.by ?? 'lead', c.to, depth(id)]);
    expect(tree.sort()).toEqual([
      ['engineering-manager', 'estimator', 2],
      ['lead', 'engineering-manager', 1],
      ['lead', 'research-manager', 1],
      ['research-manager', 'market-analyst', 2],
      ['research-manager', 'user-researcher', 2],
    ]);
    // The specialists' answers went up through their manager: the lead's last turn saw only the managers' summaries.
    expect(turnsByAgent(runJournal('hierarchical-llm'), 'lead')).toMatchObject({ lead: 2, 'research-manager': 2, 'engineering-manager': 2, estimator: 2 });
  });

  it('pipeline: each LLM stage is given the output of the stage before it', () => {
    const steps = result('pipeline-llm').report.steps as { id: string; status: string; output: unknown }[];
    expect(steps.map((s) => [s.id, s.status])).toEqual([
      ['triage', 'succeeded'],
      ['draft', 'succeeded'],
      ['edit', 'succeeded'],
    ]);
    const [triage, draft, edit] = steps;
    expect(triage?.output).toMatchObject({ category: 'billing', order: '88213', urgency: 'high' });
    expect(edit?.output).toMatchObject({ subject: expect.stringContaining('88213') });
    // The replayed requests are the recorded ones, digest for digest: what each stage's model was given.
    const [draftPrompt] = recordedPrompts('pipeline-llm', 'step draft, turn 1');
    expect(draftPrompt).toContain(JSON.stringify({ triage: triage?.output }, null, 2));
    expect(draftPrompt).toContain('"category": "billing"');
    const [editPrompt] = recordedPrompts('pipeline-llm', 'step edit, turn 1');
    expect(editPrompt).toContain(JSON.stringify({ draft: draft?.output }, null, 2));
    expect(editPrompt).not.toContain('"triage"');
  });

  it('auction: every bidder bids at once and the job goes to the best bid alone', () => {
    const answer = output('auction-llm') as { winner: string; bids: Record<string, number>; translation: string };
    expect(answer).toEqual({ winner: 'french-specialist', bids: { 'french-specialist': 0.7, generalist: 0.6 }, translation: 'Votre commande a été expédiée et arrivera jeudi.' });
    const best = Object.entries(answer.bids).sort(([, a], [, b]) => b - a)[0]?.[0];
    expect(answer.winner).toBe(best);
    const journal = runJournal('auction-llm');
    const asked = journal
      .filter((e) => e.type === 'tool_call_started' && e.tool === 'dispatch_to_agent')
      .map((e) => [e.turn, e.input?.agent, (e.input?.task as { action?: string }).action]);
    expect(asked).toEqual([
      [1, 'french-specialist', 'bid'],
      [1, 'generalist', 'bid'],
      [2, 'french-specialist', 'translate'],
    ]);
    expect(turnsByAgent(journal, 'auctioneer')).toEqual({ auctioneer: 3, 'french-specialist': 2, generalist: 1 });
  });

  it('peer-to-peer: the peers differ in round 1, hear each other, and agree in round 2', () => {
    const report = result('peer-to-peer-llm').report as { status: string; result: unknown; details: { agreed: boolean; rounds: number; exchange: Record<string, unknown>[] } };
    expect(report.status).toBe('completed');
    expect(report.result).toEqual({ points: 5 });
    expect(report.details).toMatchObject({ agreed: true, rounds: 2, max_rounds: 3 });
    expect(report.details.exchange).toEqual([
      { backend: { points: 3 }, qa: { points: 8 } },
      { backend: { points: 5 }, qa: { points: 5 } },
    ]);
    // In round 2 each peer's model was given what the other answered in round 1.
    const backend = recordedPrompts('peer-to-peer-llm', 'subtask backend, turn 1').find((t) => t.includes('"round": 2'));
    expect(backend).toContain(JSON.stringify({ qa: { points: 8 } }, null, 2).replace(/\n/g, '\n  '));
    const qa = recordedPrompts('peer-to-peer-llm', 'subtask qa, turn 1').find((t) => t.includes('"round": 2'));
    expect(qa).toContain(JSON.stringify({ backend: { points: 3 } }, null, 2).replace(/\n/g, '\n  '));
  });

  it('blackboard: the analysts write their findings at once, the diagnostician reads both off the board', () => {
    const report = result('blackboard-llm').report as { status: string; result: Record<string, unknown>; details: { board: Record<string, { version: number; updatedBy: string }>; conflicts: number } };
    expect(report.status).toBe('completed');
    expect(Object.keys(report.result).sort()).toEqual(['diagnosis', 'logs', 'metrics']);
    expect(report.result.diagnosis).toMatchObject({ cause: expect.stringContaining('3.8.0') });
    expect(report.details.conflicts).toBe(0);
    expect(Object.fromEntries(Object.entries(report.details.board).map(([k, e]) => [k, [e.updatedBy, e.version]]))).toEqual({
      logs: ['log-analyst-1', 1],
      metrics: ['metrics-analyst-1', 1],
      diagnosis: ['diagnostician-1', 1],
    });
    const [diagnose] = recordedPrompts('blackboard-llm', 'subtask diagnose, turn 1');
    expect(diagnose).toContain(`"logs": ${JSON.stringify(report.result.logs)}`);
    expect(diagnose).toContain(`"metrics": ${JSON.stringify(report.result.metrics)}`);
  });

  it('swarm: three instances of one agent follow one rule over the board until a round changes nothing', () => {
    const report = result('swarm-llm').report as { status: string; result: unknown; details: unknown; agents_used: string[] };
    expect(report.status).toBe('completed');
    expect(report.result).toEqual({ north: 'search-3', east: 'search-2', south: 'search-1' });
    expect(report.details).toEqual({ settled: true, rounds: 4, max_rounds: 6, members: 3 });
    expect(report.agents_used.sort()).toEqual(['scout-1', 'scout-2', 'scout-3']);
  });
});
