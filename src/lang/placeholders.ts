import { OrchError } from '../errors.js';
/**
 * `{{param}}` placeholders in the strings of a tool definition. Each substitution point
 * has its own encoding, because a value that is harmless in one place injects syntax in
 * another: URL-encoded in URLs, JSON-escaped in JSON bodies, and never spliced into a
 * shell string at all (see script.ts).
 */

/** `{{name}}`, `{{ name }}`, `{{a.b}}` or `{{items[0]}}`. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER.source}$`);

/** Reads a dot path such as `data.items[0].name` from a JSON-like value. */
export function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of splitPath(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) && typeof segment === 'number'
      ? current[segment]
      : (current as Record<string, unknown>)[String(segment)];
  }
  return current;
}

function splitPath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) {
      segments.push(part);
      continue;
    }
    if (match[1]) segments.push(match[1]);
    for (const index of (match[2] ?? '').matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

/** The text a parameter value stands for: strings as they are, other values as JSON. */
export function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/**
 * Replaces every placeholder in `template` with `replace(path, offset)`. The offset lets
 * a caller look at the syntax around the placeholder (quotes in a shell or JSON string).
 */
export function replacePlaceholders(template: string, replace: (path: string, offset: number) => string): string {
  return template.replace(PLACEHOLDER, (_match, path: string, offset: number) => replace(path, offset));
}

/** Placeholder paths used in a template, in order of appearance. */
export function placeholderPaths(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Plain substitution: for header values, argv elements and environment values. */
export function renderText(template: string, params: Record<string, unknown>): string {
  return replacePlaceholders(template, (path) => valueText(getPath(params, path)));
}

/** Substitution into a URL: every value is percent-encoded, so it stays one component. */
export function renderUrl(template: string, params: Record<string, unknown>): string {
  const query = template.search(/[?#]/);
  return replacePlaceholders(template, (path, offset) => {
    const value = valueText(getPath(params, path));
    // URLs resolve `.` and `..` path segments (also percent-encoded), so such a value
    // would move the request elsewhere on the server: it is refused, not sent.
    if ((query === -1 || offset < query) && (value === '.' || value === '..')) {
      throw new OrchError('ORCH_INPUT', `\`${path}\` may not be \`${value}\`: in a URL path it would change which resource is requested`);
    }
    return encodeURIComponent(value);
  });
}

/** A form body (`application/x-www-form-urlencoded`): each value encoded, so `&` and `=` in it stay data. */
export function renderForm(template: string, params: Record<string, unknown>): string {
  return replacePlaceholders(template, (path) => new URLSearchParams({ v: valueText(getPath(params, path)) }).toString().slice(2));
}

/**
 * A request body declared as YAML data: a string that is exactly one placeholder takes
 * the parameter's typed value (so `count: "{{count}}"` sends a number); other strings are
 * interpolated. The caller serialises the result, which escapes everything.
 */
export function renderData(template: unknown, params: Record<string, unknown>): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(template);
    if (whole?.[1] !== undefined) return getPath(params, whole[1]) ?? null;
    return renderText(template, params);
  }
  if (Array.isArray(template)) return template.map((item) => renderData(item, params));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderData(v, params)]));
  }
  return template;
}

/**
 * A request body written as JSON text: inside a JSON string literal a value is escaped
 * as string content; outside one it becomes a complete JSON value. Either way a value
 * can never close a string or add keys.
 */
export function renderJsonText(template: string, params: Record<string, unknown>): string {
  const inString = stringOffsets(template);
  return replacePlaceholders(template, (path, offset) => {
    const value = getPath(params, path);
    if (inString(offset)) return JSON.stringify(valueText(value)).slice(1, -1);
    return JSON.stringify(value ?? null);
  });
}

/** A predicate telling whether an offset of JSON text lies inside a string literal. */
function stringOffsets(text: string): (offset: number) => boolean {
  const inside = new Uint8Array(text.length);
  let open = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (open) {
      inside[i] = 1;
      if (ch === '\\') {
        inside[i + 1] = 1;
        i++;
      } else if (ch === '"') {
        open = false;
      }
    } else if (ch === '"') {
      open = true;
    }
  }
  return (offset) => inside[offset] === 1;
}
