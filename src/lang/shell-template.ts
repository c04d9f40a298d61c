import { getPath, placeholderPaths, replacePlaceholders, valueText } from './placeholders.js';

/** A `shell:` string made safe to run: the script plus the variables it refers to. */
export interface ShellScript {
  script: string;
  /** `ORCH_P_*` variables holding the parameter values, to add to the environment. */
  env: Record<string, string>;
}

type Quote = 'none' | 'single' | 'double';

/**
 * Turns a `shell:` string into one that never contains a parameter value. Each
 * `{{param}}` becomes a reference to an environment variable holding the value, quoted
 * for where it stands, so the shell expands it once as data and never parses it: no
 * `;`, `$(...)`, backtick, quote or newline in a value can run anything.
 *
 * Quoting by context: outside quotes `"${V}"`; inside double quotes `${V}`; inside single
 * quotes (where nothing expands) the quote is closed and reopened around `"${V}"`.
 */
export function renderShell(template: string, params: Record<string, unknown>): ShellScript {
  const names = variableNames(placeholderPaths(template));
  const env: Record<string, string> = {};
  for (const [path, name] of names) env[name] = valueText(getPath(params, path));

  const quoteAt = quoteStates(template);
  const script = replacePlaceholders(template, (path, offset) => {
    const ref = `\${${names.get(path) ?? ''}}`;
    switch (quoteAt(offset)) {
      case 'none':
        return `"${ref}"`;
      case 'double':
        return ref;
      case 'single':
        return `'"${ref}"'`;
    }
  });
  return { script, env };
}

/** One variable per distinct placeholder path; names stay readable for debugging. */
function variableNames(paths: string[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const path of paths) {
    if (names.has(path)) continue;
    const base = `ORCH_P_${path.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    names.set(path, name);
  }
  return names;
}

/**
 * The quoting context at each offset of a POSIX shell string, following single quotes,
 * double quotes and backslash escapes at the top level. Inside `$(...)` nested in double
 * quotes this sees "double", so a value there is expanded unquoted: it may be split into
 * words, but it is still never parsed as code. In a here-document the added quotes show
 * up literally; the value is still only expanded, never parsed.
 */
function quoteStates(text: string): (offset: number) => Quote {
  const states: Quote[] = new Array<Quote>(text.length).fill('none');
  let state: Quote = 'none';
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    states[i] = state;
    if (comment) {
      // Quotes in a comment are words of the comment, not the start of a string.
      if (ch === '\n') comment = false;
    } else if (state === 'none' && ch === '#' && (i === 0 || /[\s;&|()]/.test(text[i - 1] ?? ''))) {
      comment = true;
    } else if (state === 'single') {
      if (ch === "'") state = 'none';
    } else if (ch === '\\') {
      i++;
      if (i < text.length) states[i] = state;
    } else if (state === 'double') {
      if (ch === '"') state = 'none';
    } else if (ch === "'") {
      state = 'single';
    } else if (ch === '"') {
      state = 'double';
    }
  }
  return (offset) => states[offset] ?? 'none';
}
