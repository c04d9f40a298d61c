import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor, collectSecrets, redactedPath, secretKey, secretName } from '../../../src/secrets/redact.js';

describe('secret variable names', () => {
  it('cover the spellings credentials go by: PASSWD, PAT, PASS, PWD, CREDENTIALS, AUTH', () => {
    for (const name of ['DB_PASSWD', 'GITHUB_PAT', 'GH_PAT', 'SMTP_PASS', 'DB_PWD', 'GOOGLE_CREDENTIALS', 'NPM_AUTH', 'MY_API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD']) {
      expect(secretName(name), name).toBe(true);
    }
  });

  it('leave alone names that only contain those letters, and the working directory', () => {
    for (const name of ['PATH', 'PWD', 'OLDPWD', 'PATTERN', 'BYPASS_CACHE', 'COMPASS', 'AUTHOR', 'PATH_INFO', 'HOME']) {
      expect(secretName(name), name).toBe(false);
    }
  });

  it('are what collectSecrets gathers from the environment', () => {
    const env = { DB_PASSWD: 'pw-one-two', GITHUB_PAT: 'ghp_abcdef', PATH: '/usr/bin', PWD: '/home/u/project' };
    expect(collectSecrets(env, []).sort()).toEqual(['ghp_abcdef', 'pw-one-two']);
  });
});

describe('secret-looking data keys', () => {
  it('include pat, passwd and credentials, not path, pattern, passed or pwd', () => {
    for (const key of ['github_pat', 'db_passwd', 'credentials', 'auth', 'Authorization']) expect(secretKey(key), key).toBe(true);
    for (const key of ['path', 'pattern', 'passed', 'pwd', 'author', 'max_tokens', 'input_tokens']) expect(secretKey(key), key).toBe(false);
  });
});

describe('Redactor', () => {
  it('hands back a value with nothing to hide as it is, and a copy of one with something, leaving the original alone', () => {
    const r = new Redactor(['s3cr3t-value']);
    const clean = { a: 'x', list: [1, { b: 'y' }] };
    expect(r.redacted(clean)).toBe(clean);
    const dirty = { a: 'uses s3cr3t-value', list: [{ password: 'p' }] };
    const hidden = r.redacted(dirty);
    expect(hidden).not.toBe(dirty);
    expect(hidden).toEqual({ a: 'uses [REDACTED]', list: [{ password: '[REDACTED]' }] });
    expect(dirty.a).toBe('uses s3cr3t-value');
    const when = { at: new Date(0) }; // not plain JSON: copied, as redact copies it
    expect(r.redacted(when)).toEqual(r.redact(when));
  });

  it('hides the password of a URL however it got there', () => {
    const r = new Redactor([]);
    expect(r.redactString('node x.js postgresql://readonly:S3cr3tPW999@db.internal:5432/app')).toBe(
      `node x.js postgresql://readonly:${REDACTED}@db.internal:5432/app`,
    );
    // No password, or no credentials at all: nothing to hide.
    for (const text of ['https://user@example.com/x', 'http://127.0.0.1:8080/path:a@b', 'see a:b@c', 'mailto:a@b.c']) expect(r.redactString(text)).toBe(text);
  });

  it('learns the values given under secret-looking keys, and hides them wherever they show up later', () => {
    const r = new Redactor(['sekrit-123']);
    r.learn({ api_key: 'real-key-abc', name: 'bob', nested: [{ password: 'short' }], count: { key: 123456789 } });
    expect(r.redactString('got real-key-abc and sekrit-123, bob')).toBe(`got ${REDACTED} and ${REDACTED}, bob`);
    // Short values (a sort key such as "name") and non-strings are not learned: hiding them everywhere would wreck logs.
    expect(r.redactString('short 123456789')).toBe('short 123456789');
  });

  it('never redacts token counts', () => {
    const usage = { usage: { input_tokens: 1200, output_tokens: 34 }, max_tokens: 4096, tokens: 3 };
    const r = new Redactor(['1200', '4096']);
    expect(r.redact(usage)).toEqual(usage);
  });

  it('finds where a stored value holds a redaction', () => {
    expect(redactedPath({ a: 1, b: ['x', { c: `got ${REDACTED}` }] })).toBe('b[1].c');
    expect(redactedPath(REDACTED)).toBe('');
    expect(redactedPath({ a: 'fine', n: 2, z: null })).toBeUndefined();
  });
});
