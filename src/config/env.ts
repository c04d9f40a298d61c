/**
 * `${VAR}` and `${VAR:-default}` expansion for the fields that name programs, arguments,
 * environments, URLs and headers, with the forms MCP clients' files use: VS Code's
 * `${env:VAR}`, `${workspaceFolder}` (the project directory) and `${userHome}`. A default
 * may itself hold references (`${A:-${B}}`); `$${` stands for a literal `${`. Workflow
 * expressions (`${{ ... }}`) pass through untouched.
 */
export interface Expansion {
  value: string;
  /** Variables referenced without a default that are not set. */
  missing: string[];
  /** References that are not `${NAME}` or `${NAME:-default}` (e.g. `${ X }`, `${X:?}`, an unclosed `${X`). */
  malformed: string[];
  /** VS Code's `${input:id}` references, which would need a prompt orch does not have. */
  inputs: string[];
}

/** What `${workspaceFolder}` and `${userHome}` stand for; absent: they stay unexpanded, reported as malformed. */
export interface Folders {
  workspaceFolder?: string;
  userHome?: string;
}

const REFERENCE = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;
const INPUT = /^input:(.*)$/;

export function expandEnv(input: string, env: NodeJS.ProcessEnv, folders: Folders = {}): Expansion {
  const missing: string[] = [];
  const malformed: string[] = [];
  const inputs: string[] = [];
  let out = '';
  let i = 0;
  while (i < input.length) {
    if (input.startsWith('$${', i)) {
      out += '${';
      i += 3;
    } else if (input.startsWith('${{', i)) {
      const end = input.indexOf('}}', i);
      const stop = end === -1 ? input.length : end + 2;
      out += input.slice(i, stop);
      i = stop;
    } else if (input.startsWith('${', i)) {
      // The reference ends at its matching brace, so a default may nest references.
      let depth = 1;
      let j = i + 2;
      while (j < input.length && depth > 0) {
        if (input.startsWith('${', j)) {
          depth++;
          j += 2;
          continue;
        }
        if (input[j] === '}') depth--;
        j++;
      }
      if (depth > 0) {
        malformed.push(input.slice(i));
        out += input.slice(i);
        break;
      }
      const whole = input.slice(i, j);
      const body = input.slice(i + 2, j - 1);
      const folder = body === 'workspaceFolder' ? folders.workspaceFolder : body === 'userHome' ? folders.userHome : undefined;
      const match = REFERENCE.exec(body);
      const asked = INPUT.exec(body);
      if (folder !== undefined) {
        out += folder;
      } else if (asked) {
        inputs.push(asked[1] ?? '');
        out += whole;
      } else if (!match) {
        malformed.push(whole);
        out += whole;
      } else {
        const [, name = '', fallback] = match;
        const current = env[name];
        if (current !== undefined && current !== '') out += current;
        else if (fallback !== undefined) {
          const inner = expandEnv(fallback, env, folders);
          missing.push(...inner.missing);
          malformed.push(...inner.malformed);
          inputs.push(...inner.inputs);
          out += inner.value;
        } else if (current === undefined) missing.push(name);
      }
      i = j;
    } else {
      out += input[i];
      i++;
    }
  }
  return { value: out, missing, malformed, inputs };
}
