import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { OrchError } from '../errors.js';
import { errnoOf, explainFsError } from '../util/fs-errors.js';
import { composeFile } from './compose.js';
import { dockerfile } from './dockerfile.js';
import { kubernetesManifests } from './kubernetes.js';
import type { DeployPlan, Platform } from './plan.js';

/** The first line of every file orch deploy writes: what it may replace on the next deploy. */
export const WRITTEN_MARK = '# Written by `orch deploy`';

/** A file to write: its name in the output folder and its text. */
export interface OutputFile {
  file: string;
  text: string;
}

function header(plan: DeployPlan): string {
  return `${WRITTEN_MARK} (orch ${plan.orchVersion}) for ${plan.name}; it replaces this file on the next deploy.\n# Change agent-team.yaml (or \`orch scale\`) and deploy again, or delete the first line to keep your edits.\n`;
}

function yamlText(documents: readonly unknown[]): string {
  return documents.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' })).join('---\n');
}

/** The files of a deployment to `platform`, written into `outDir`. */
export function outputFiles(plan: DeployPlan, platform: Platform, projectDir: string, outDir: string): OutputFile[] {
  const top = header(plan);
  const files: OutputFile[] =
    platform === 'kubernetes'
      ? kubernetesManifests(plan).map((m) => ({ file: m.file, text: top + yamlText(m.objects) }))
      : [{ file: 'compose.yaml', text: top + yamlText([composeFile(plan, projectDir, outDir)]) }];
  files.push({ file: 'Dockerfile', text: top + dockerfile(plan) });
  return files;
}

/**
 * Writes the files into `outDir`. A file there that orch deploy did not write (its first
 * line is not WRITTEN_MARK) is left alone and the deploy refused before anything is
 * written, unless `force`. Returns which files were new and which replaced.
 */
export async function writeOutput(outDir: string, files: readonly OutputFile[], force: boolean): Promise<{ file: string; replaced: boolean }[]> {
  const existing = new Map<string, string>();
  for (const { file } of files) {
    const target = path.join(outDir, file);
    const text = await readFile(target, 'utf8').catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw writeError(err, target);
    });
    if (text !== undefined) existing.set(file, text);
  }
  const foreign = [...existing].filter(([, text]) => !text.startsWith(WRITTEN_MARK)).map(([file]) => file);
  if (foreign.length > 0 && !force) {
    throw new OrchError('ORCH_DEPLOY_EXISTS', `${foreign.map((f) => path.join(outDir, f)).join(', ')} ${foreign.length === 1 ? 'exists and was' : 'exist and were'} not written by orch deploy`, {
      hint: 'choose another folder with --out, or replace them with --force',
    });
  }
  try {
    await mkdir(outDir, { recursive: true });
  } catch (err) {
    throw writeError(err, outDir);
  }
  const written: { file: string; replaced: boolean }[] = [];
  for (const { file, text } of files) {
    const target = path.join(outDir, file);
    await writeFile(target, text).catch((err: unknown) => {
      throw writeError(err, target);
    });
    written.push({ file: target, replaced: existing.has(file) });
  }
  return written;
}

function writeError(err: unknown, file: string): OrchError {
  const { what, hint } = explainFsError(err, file);
  return new OrchError('ORCH_DEPLOY_WRITE', `cannot write ${file}: ${what}`, { hint: hint ?? 'give --out a folder you can write to', cause: err });
}
