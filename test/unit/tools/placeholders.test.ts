import { describe, expect, it } from 'vitest';
import { getPath, renderData, renderJsonText, renderText, renderUrl } from '../../../src/lang/placeholders.js';

describe('placeholders', () => {
  const params = { name: 'Ada Lovelace', count: 3, tags: ['a', 'b'], user: { id: 7, email: 'a@b.c' } };

  it('substitutes with and without spaces, and nested paths', () => {
    expect(renderText('{{name}}/{{ count }}/{{user.id}}/{{tags[1]}}', params)).toBe('Ada Lovelace/3/7/b');
  });

  it('renders missing values as empty text and data as JSON', () => {
    expect(renderText('[{{nope}}] {{tags}}', params)).toBe('[] ["a","b"]');
  });

  it('leaves text that is not a placeholder alone', () => {
    expect(renderText('{{ 1bad }} {name} {{}}', params)).toBe('{{ 1bad }} {name} {{}}');
  });

  it('percent-encodes values in URLs so they stay one component', () => {
    const url = renderUrl('http://h/users/{{name}}?q={{q}}', { name: 'a/../b', q: 'x&admin=1#f' });
    expect(url).toBe('http://h/users/a%2F..%2Fb?q=x%26admin%3D1%23f');
    expect(new URL(url).searchParams.get('q')).toBe('x&admin=1#f');
  });

  it('keeps the type of a whole-placeholder value in YAML bodies', () => {
    const body = renderData({ n: '{{count}}', who: 'hi {{name}}', list: ['{{tags}}'], u: '{{user}}' }, params);
    expect(body).toEqual({ n: 3, who: 'hi Ada Lovelace', list: [['a', 'b']], u: { id: 7, email: 'a@b.c' } });
  });

  it('JSON-escapes values inside string literals of a JSON text body', () => {
    const evil = 'x", "admin": true, "y": "\n\\';
    const text = renderJsonText('{"name": "{{v}}", "n": {{count}}, "raw": {{v}}}', { v: evil, count: 3 });
    expect(JSON.parse(text)).toEqual({ name: evil, n: 3, raw: evil });
  });

  it('treats escaped quotes in JSON text as part of the string', () => {
    const text = renderJsonText('{"a": "say \\"{{v}}\\""}', { v: '"}' });
    expect(JSON.parse(text)).toEqual({ a: 'say ""}"' });
  });

  it('reads dot paths with indexes', () => {
    expect(getPath({ data: { items: [{ name: 'x' }] } }, 'data.items[0].name')).toBe('x');
    expect(getPath({ data: null }, 'data.items')).toBeUndefined();
    expect(getPath([1, [2, 3]], '[1][0]')).toBe(2);
  });
});
