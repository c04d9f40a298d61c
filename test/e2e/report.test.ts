import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { STATUS_COLOURS } from '../../src/cli/report/html.js';
import { breathe, orch } from '../helpers/cli.js';
import { ORCHESTRATION_FIXTURE, teamYaml } from '../helpers/orchestration.js';
import { workflowProject } from '../helpers/workflow-project.js';

let project: ReturnType<typeof workflowProject> | undefined;
afterEach(() => project?.cleanup());

const start = () => {
  project = workflowProject();
  return project;
};

const lastRun = (p: ReturnType<typeof workflowProject>): string => {
  const id = p.runIds().at(-1);
  if (!id) throw new Error('no run');
  return id;
};

/** Debian's chromium (installed by .ci/run); under CI its absence fails the test rather than skipping it. */
const CHROMIUM = ['chromium', 'chromium-browser'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);

/** The page as headless Chromium draws it, decoded. Host resolution is cut off too: nothing could be fetched. */
function screenshot(html: string, dir: string): PNG {
  const shot = path.join(dir, 'shot.png');
  const r = spawnSync(
    CHROMIUM ?? 'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      '--window-size=1100,900',
      `--user-data-dir=${path.join(dir, 'chromium-profile')}`,
      `--screenshot=${shot}`,
      `file://${html}`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (!existsSync(shot)) throw new Error(`chromium wrote no screenshot (exit ${r.status}): ${r.stderr}`);
  return PNG.sync.read(readFileSync(shot));
}

/** Connected areas of exactly this colour at least `minHeight` pixels tall: the bars drawn in it (legend dots are smaller). */
function areasOf(png: PNG, hex: string, minHeight: number): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const { width, height, data } = png;
  const match = (i: number) => data[i * 4] === r && data[i * 4 + 1] === g && data[i * 4 + 2] === b;
  const seen = new Uint8Array(width * height);
  let count = 0;
  for (let start = 0; start < width * height; start++) {
    if (seen[start] || !match(start)) continue;
    let top = height;
    let bottom = 0;
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const p = stack.pop() ?? 0;
      const y = Math.floor(p / width);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
      const x = p % width;
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width]) {
        if (q >= 0 && q < width * height && !seen[q] && match(q)) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    if (bottom - top + 1 >= minHeight) count++;
  }
  return count;
}

describe('orch report', () => {
  it('prints a run as a table of steps with a text timeline, gates and errors, from its journal', async () => {
    const p = start();
    expect(orch(['run', 'gated', '--approve', 'a'], { cwd: p.dir }).code).toBe(0);
    await breathe();
    const r = orch(['report', lastRun(p)], { cwd: p.dir });
    await breathe();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`workflow gated succeeded (run ${lastRun(p)})`);
    expect(r.stdout).toMatch(/^\s+a\s+worker-\d\s+succeeded\s+1\s+\+\d+ms/m);
    expect(r.stdout).toMatch(/^\s+b\s+\|\s*█+\s*\|/m);
    expect(r.stdout).toMatch(/a \(after\): approved by \S+ via flag at \d{4}-/);

    expect(orch(['run', 'tolerant'], { cwd: p.dir }).code).toBe(0);
    await breathe();
    const failed = orch(['report', lastRun(p)], { cwd: p.dir });
    await breathe();
    expect(failed.stdout).toMatch(/errors:\n.*step boom \(attempt 1, retried\): ORCH_TOOL_FAILED fail exited with code 3: boom/);
  });

  it('--json gives the same as data: steps with their agent, bars, gates', async () => {
    const p = start();
    orch(['run', 'fan'], { cwd: p.dir });
    await breathe();
    const r = orch(['report', lastRun(p), '--json'], { cwd: p.dir });
    await breathe();
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout) as { status: string; steps: { id: string; agent: string; status: string }[]; bars: { kind: string; label: string }[] };
    expect(t.status).toBe('succeeded');
    expect(t.steps.map((s) => `${s.id} ${s.agent} ${s.status}`).sort()).toEqual(['a worker succeeded', 'b worker succeeded', 'c worker succeeded', 'join worker succeeded']);
    expect(t.bars.filter((b) => b.kind === 'step').map((b) => b.label).sort()).toEqual(['a', 'b', 'c', 'join']);
  });

  it('refuses an id that is neither a run nor a task, with exit code 2 and a suggestion', async () => {
    const p = start();
    orch(['run', 'gated', '--approve-all'], { cwd: p.dir });
    await breathe();
    const id = lastRun(p);
    const r = orch(['report', `${id.slice(0, -1)}x`], { cwd: p.dir });
    await breathe();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ORCH_UNKNOWN_RUN');
    expect(r.stderr).toContain(`did you mean \`${id}\`?`);
    expect(orch(['report', 'nothing-here'], { cwd: p.dir }).stderr).toContain('run `orch runs` to list them');
    await breathe();
  });

  it('`orch run --report-html` writes a self-contained page: inline CSS and SVG, no script, nothing to fetch', async () => {
    const p = start();
    const file = path.join(p.dir, 'out', 'report.html');
    expect(orch(['run', 'gated', '--approve', 'a', '--report-html', 'out/report.html'], { cwd: p.dir }).code).toBe(0);
    await breathe();
    const html = readFileSync(file, 'utf8');
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import/i);
    expect(html).toContain('<svg');
    expect(html).toMatch(/<polygon class="gate"[^>]*><title>gate after a: approved by \S+ \(flag\)/);
    // A folder where the file should go is refused before the run starts.
    const before = p.runIds().length;
    const r = orch(['run', 'gated', '--approve-all', '--report-html', 'out'], { cwd: p.dir });
    await breathe();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--report-html out is a folder');
    expect(p.runIds()).toHaveLength(before);
  });

  it.skipIf(!CHROMIUM && process.env.CI !== 'true')('headless Chromium draws one bar per step of the timeline', async () => {
    const p = start();
    expect(orch(['run', 'fan', '--report-html', 'fan.html'], { cwd: p.dir }).code).toBe(0);
    await breathe();
    const html = path.join(p.dir, 'fan.html');
    // Every bar is drawn in its status's colour, 16 px tall; the legend's dots are 10.
    expect(areasOf(screenshot(html, p.dir), STATUS_COLOURS.succeeded ?? '', 14)).toBe(4);
    await breathe();

    expect(orch(['run', 'tolerant', '--report-html', 'tolerant.html'], { cwd: p.dir }).code).toBe(0);
    await breathe();
    const shot = screenshot(path.join(p.dir, 'tolerant.html'), p.dir);
    await breathe();
    expect(areasOf(shot, STATUS_COLOURS.succeeded ?? '', 14)).toBe(1);
    expect(areasOf(shot, STATUS_COLOURS.failed ?? '', 14)).toBe(1);
  });

  it('reports an orchestrate task too: a bar per subtask, from the task journal and report', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-report-task-'));
    try {
      cpSync(ORCHESTRATION_FIXTURE, dir, { recursive: true });
      writeFileSync(path.join(dir, 'agent-team.yaml'), teamYaml());
      const task = { subtasks: [{ id: 'one', tool: 'echo', input: { value: 1 } }, { id: 'two', tool: 'echo', input: { value: 2 }, depends_on: ['one'] }] };
      const r = orch(['-C', dir, 'run', 'orchestrate', '--task', JSON.stringify(task), '--json', '--report-html', path.join(dir, 'task.html')]);
      await breathe();
      expect(r.code).toBe(0);
      const taskId = (JSON.parse(r.stdout) as { task_id: string }).task_id;
      const text = orch(['-C', dir, 'report', taskId]);
      await breathe();
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`orchestrate (centralized) completed (task ${taskId})`);
      expect(text.stdout).toMatch(/^\s+one\s+\|\s*█+/m);
      expect(text.stdout).toMatch(/^\s+two\s+\|\s*█+/m);
      const html = readFileSync(path.join(dir, 'task.html'), 'utf8');
      expect(html.match(/<rect class="bar subtask"/g)).toHaveLength(2);
      // A tool that is no orchestration tool has no task to report.
      const bad = orch(['-C', dir, 'run', 'echo', '--value', '1', '--report-html', 'x.html']);
      await breathe();
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--report-html is for workflows and the orchestration tools');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
