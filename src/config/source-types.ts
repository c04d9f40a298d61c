import type { Issue } from '../errors.js';

export type KeyPath = (string | number)[];

export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** A parsed config file: its text, data and a way back from a key path to a line and column. */
export interface SourceFile {
  /** Absolute path. */
  file: string;
  /** Path as shown to the user (relative to the project dir when inside it). */
  display: string;
  text: string;
  data: unknown;
  /** Where the value (or, with `key`, the key) at a path stands; the nearest existing ancestor otherwise. */
  locate(keyPath: KeyPath, options?: { key?: boolean }): Span;
}

export type ReadResult = { ok: true; source: SourceFile } | { ok: false; issues: Issue[]; text?: string };
