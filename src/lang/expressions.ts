import { OrchError } from '../errors.js';

/**
 * A small, safe expression language for `${{ ... }}` in `with:` and `if:`: property paths
 * (`steps.review.output.approved`, `inputs.items[0]`), string/number/boolean/null
 * literals, `== != < <= > >=`, `&& || !` and parentheses. It is parsed here and evaluated
 * over plain data — never `eval` or `new Function`.
 */
export type Expr =
  | { kind: 'literal'; value: unknown }
  | { kind: 'path'; root: string; segments: (string | number)[] }
  | { kind: 'not'; operand: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

type Token = { type: 'ident' | 'number' | 'string' | 'op' | 'punct'; value: string; pos: number };

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      tokens.push({ type: 'op', value: op, pos: i });
      i += op.length;
    } else if ('.[]()'.includes(ch)) {
      tokens.push({ type: 'punct', value: ch, pos: i });
      i++;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== ch) {
        if (source[j] === '\\' && j + 1 < source.length) j++;
        text += source[j];
        j++;
      }
      if (j >= source.length) throw syntax(source, i, 'unterminated string');
      tokens.push({ type: 'string', value: text, pos: i });
      i = j + 1;
    } else if (/[0-9-]/.test(ch)) {
      const m = /^-?\d+(\.\d+)?/.exec(source.slice(i));
      if (!m) throw syntax(source, i, `unexpected \`${ch}\``);
      tokens.push({ type: 'number', value: m[0], pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][\w-]*/.exec(source.slice(i)) ?? [''];
      tokens.push({ type: 'ident', value: m[0], pos: i });
      i += m[0].length;
    } else {
      throw syntax(source, i, `unexpected \`${ch}\``);
    }
  }
  return tokens;
}

function syntax(source: string, pos: number, what: string): OrchError {
  return new OrchError('ORCH_EXPRESSION', `invalid expression \`${source}\`: ${what} at position ${pos + 1}`, {
    hint: 'expressions use paths (steps.x.output, inputs.y), literals, == != < > <= >=, && || ! and parentheses',
  });
}

/**
 * How deep an expression may nest (parentheses, `!`, chained operators). Real ones nest a
 * few levels; a limit keeps a pathological one from exhausting the stack of the parser or
 * the evaluator, both recursive.
 */
export const MAX_EXPRESSION_DEPTH = 100;

function tooDeep(source: string, pos: number): OrchError {
  const shown = source.length > 60 ? `${source.slice(0, 60)}…` : source;
  return new OrchError('ORCH_EXPRESSION', `invalid expression \`${shown}\`: nested more than ${MAX_EXPRESSION_DEPTH} levels deep at position ${pos + 1}`, {
    hint: 'split it into steps, or compute the value in a tool',
  });
}

/** The depth of an expression tree, found without recursion. */
function depthOf(root: Expr): number {
  let deepest = 0;
  const stack: [Expr, number][] = [[root, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [node, depth] = top;
    deepest = Math.max(deepest, depth);
    if (node.kind === 'not') stack.push([node.operand, depth + 1]);
    if (node.kind === 'binary') stack.push([node.left, depth + 1], [node.right, depth + 1]);
  }
  return deepest;
}

/** Parses one expression (the text between `${{` and `}}`). */
export function parseExpression(source: string): Expr {
  const tokens = tokenize(source);
  let at = 0;
  let nesting = 0;
  const enter = (pos: number): void => {
    if (++nesting > MAX_EXPRESSION_DEPTH) throw tooDeep(source, pos);
  };
  const peek = (): Token | undefined => tokens[at];
  const take = (): Token => {
    const t = tokens[at++];
    if (!t) throw syntax(source, source.length, 'unexpected end');
    return t;
  };
  const PRECEDENCE: BinaryOp[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>=']];

  const binary = (level: number): Expr => {
    const ops = PRECEDENCE[level];
    if (!ops) return unary();
    let left = binary(level + 1);
    for (let t = peek(); t?.type === 'op' && (ops as string[]).includes(t.value); t = peek()) {
      take();
      left = { kind: 'binary', op: t.value as BinaryOp, left, right: binary(level + 1) };
    }
    return left;
  };
  const unary = (): Expr => {
    const t = peek();
    if (t?.type === 'op' && t.value === '!') {
      take();
      enter(t.pos);
      const operand = unary();
      nesting--;
      return { kind: 'not', operand };
    }
    return primary();
  };
  const primary = (): Expr => {
    const t = take();
    if (t.type === 'number') return { kind: 'literal', value: Number(t.value) };
    if (t.type === 'string') return { kind: 'literal', value: t.value };
    if (t.type === 'punct' && t.value === '(') {
      enter(t.pos);
      const inner = binary(0);
      const close = take();
      if (close.value !== ')') throw syntax(source, close.pos, 'expected `)`');
      nesting--;
      return inner;
    }
    if (t.type !== 'ident') throw syntax(source, t.pos, `unexpected \`${t.value}\``);
    if (t.value === 'true' || t.value === 'false') return { kind: 'literal', value: t.value === 'true' };
    if (t.value === 'null') return { kind: 'literal', value: null };
    const segments: (string | number)[] = [];
    for (let n = peek(); n?.type === 'punct' && (n.value === '.' || n.value === '['); n = peek()) {
      take();
      if (n.value === '.') {
        const name = take();
        if (name.type !== 'ident' && name.type !== 'number') throw syntax(source, name.pos, 'expected a name after `.`');
        segments.push(name.type === 'number' ? Number(name.value) : name.value);
      } else {
        const key = take();
        if (key.type !== 'number' && key.type !== 'string') throw syntax(source, key.pos, 'expected an index or a quoted key');
        segments.push(key.type === 'number' ? Number(key.value) : key.value);
        if (take().value !== ']') throw syntax(source, key.pos, 'expected `]`');
      }
    }
    return { kind: 'path', root: t.value, segments };
  };

  const expr = binary(0);
  const rest = peek();
  if (rest) throw syntax(source, rest.pos, `unexpected \`${rest.value}\``);
  // A long chain (`a && b && c ...`) nests in the tree though not in the text.
  if (depthOf(expr) > MAX_EXPRESSION_DEPTH) throw tooDeep(source, 0);
  return expr;
}

/** Plain data the expressions read: `inputs`, `steps`, and whatever else the engine adds. */
export type Scope = Record<string, unknown>;

function get(value: unknown, key: string | number): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' && key === 'length') return value.length;
  if (typeof value === 'string') {
    // A step's output that is JSON text is read as data.
    try {
      return get(JSON.parse(value) as unknown, key);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object') return undefined;
  if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
  return (value as Record<string | number, unknown>)[key];
}

function truthy(value: unknown): boolean {
  if (typeof value === 'string') return value !== '' && value !== 'false' && value !== '0';
  return Boolean(value);
}

export function evaluate(expr: Expr, scope: Scope): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'path':
      return expr.segments.reduce<unknown>((v, s) => get(v, s), get(scope, expr.root));
    case 'not':
      return !truthy(evaluate(expr.operand, scope));
    case 'binary': {
      if (expr.op === '&&') return truthy(evaluate(expr.left, scope)) && truthy(evaluate(expr.right, scope));
      if (expr.op === '||') return truthy(evaluate(expr.left, scope)) || truthy(evaluate(expr.right, scope));
      const l = evaluate(expr.left, scope);
      const r = evaluate(expr.right, scope);
      switch (expr.op) {
        case '==':
          return looseEqual(l, r);
        case '!=':
          return !looseEqual(l, r);
        case '<':
          return compare(l, r) < 0;
        case '<=':
          return compare(l, r) <= 0;
        case '>':
          return compare(l, r) > 0;
        case '>=':
          return compare(l, r) >= 0;
        default: {
          const never: never = expr.op;
          return never;
        }
      }
    }
    default: {
      const never: never = expr;
      return never;
    }
  }
}

/**
 * Script outputs are text: `"3" == 3` holds, as a reader expects; against a boolean a
 * value compares by truthiness (`"true" == true`, `0 == false`, `"yes" == true`).
 */
function looseEqual(a: unknown, b: unknown): boolean {
  if (typeof a === typeof b) return JSON.stringify(a) === JSON.stringify(b);
  if (typeof a === 'boolean' || typeof b === 'boolean') return truthy(a) === truthy(b);
  if (a === undefined || b === undefined || a === null || b === null) return a == b;
  return String(a) === String(b);
}

function compare(a: unknown, b: unknown): number {
  const x = Number(a);
  const y = Number(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  return String(a).localeCompare(String(b));
}

const TEMPLATE = /\$\{\{\s*(.*?)\s*\}\}/g;

/**
 * Fills `${{ }}` in a value: a string that is one whole expression becomes that value
 * (keeping its type); other strings get each expression's text; objects and lists are
 * filled throughout.
 */
export function render(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return value;
    const whole = /^\$\{\{\s*(.*?)\s*\}\}$/.exec(value);
    if (whole && !whole[1]?.includes('}}')) return evaluate(parseExpression(whole[1] ?? ''), scope);
    return value.replace(TEMPLATE, (_m, body: string) => {
      const v = evaluate(parseExpression(body), scope);
      return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => render(v, scope));
  if (value !== null && typeof value === 'object') {
    // As Object.fromEntries would build it (own keys in order, `__proto__` too), without the pairs.
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const v = render((value as Record<string, unknown>)[k], scope);
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
      else out[k] = v;
    }
    return out;
  }
  return value;
}

/** An `if:` condition: `${{ expr }}`, a bare expression, or true/false. */
export function condition(source: string, scope: Scope): boolean {
  const whole = /^\s*\$\{\{\s*(.*?)\s*\}\}\s*$/.exec(source);
  return truthy(evaluate(parseExpression(whole ? (whole[1] ?? '') : source), scope));
}

type PathExpr = Extract<Expr, { kind: 'path' }>;

function collectPaths(expr: Expr, out: PathExpr[]): void {
  switch (expr.kind) {
    case 'literal':
      return;
    case 'path':
      out.push(expr);
      return;
    case 'not':
      return collectPaths(expr.operand, out);
    case 'binary':
      collectPaths(expr.left, out);
      return collectPaths(expr.right, out);
    default: {
      const never: never = expr;
      return never;
    }
  }
}

/**
 * The paths (`inputs.key`, `steps.fetch.output`) read by the expressions of a templated
 * value, or of an `if:` condition when `source` is given as one. An expression that does
 * not parse reads nothing here; evaluating it reports it.
 */
export function pathsRead(value: unknown, kind: 'template' | 'condition' = 'template'): PathExpr[] {
  const out: PathExpr[] = [];
  const add = (body: string): void => {
    try {
      collectPaths(parseExpression(body), out);
    } catch {
      // Reported where the expression is evaluated.
    }
  };
  if (kind === 'condition' && typeof value === 'string') {
    const whole = /^\s*\$\{\{\s*(.*?)\s*\}\}\s*$/.exec(value);
    add(whole ? (whole[1] ?? '') : value);
    return out;
  }
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(TEMPLATE)) add(m[1] ?? '');
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

/** A path as it is written: `steps.fetch.output`, `inputs.items[0]`. */
export function pathText(expr: PathExpr): string {
  return expr.segments.reduce<string>((text, s) => (typeof s === 'number' ? `${text}[${s}]` : `${text}.${s}`), expr.root);
}
