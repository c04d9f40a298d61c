import { describe, expect, it } from 'vitest';
import { toolNames } from '../../../src/llm/tool-names.js';

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

describe('tool names shown to a provider', () => {
  it('keeps valid names and writes server tools with `__`', () => {
    const names = toolNames(['echo', 'memory.create_entities', 'kube-apply']);
    expect(names.toProvider('echo')).toBe('echo');
    expect(names.toProvider('kube-apply')).toBe('kube-apply');
    expect(names.toProvider('memory.create_entities')).toBe('memory__create_entities');
    expect(names.fromProvider('memory__create_entities')).toBe('memory.create_entities');
  });

  it('never gives two tools one name, whatever their order', () => {
    const list = ['memory.create_entities', 'memory__create_entities', 'a b', 'a_b', 'a/b'];
    const one = toolNames(list);
    const other = toolNames([...list].reverse());
    const shown = list.map((n) => one.toProvider(n));
    expect(new Set(shown).size).toBe(list.length);
    for (const name of list) {
      expect(one.toProvider(name)).toMatch(VALID);
      expect(one.fromProvider(one.toProvider(name))).toBe(name);
      expect(other.toProvider(name)).toBe(one.toProvider(name));
    }
    // The name a provider already accepts is the one left as it is.
    expect(one.toProvider('memory__create_entities')).toBe('memory__create_entities');
    expect(one.toProvider('memory.create_entities')).not.toBe('memory__create_entities');
  });

  it('shortens long names to 64 characters, still distinct and reversible', () => {
    const long = `${'server'.repeat(8)}.${'tool'.repeat(10)}`;
    const longer = `${long}_2`;
    const names = toolNames([long, longer]);
    expect(names.toProvider(long)).toMatch(VALID);
    expect(names.toProvider(longer)).toMatch(VALID);
    expect(names.toProvider(long)).not.toBe(names.toProvider(longer));
    expect(names.fromProvider(names.toProvider(longer))).toBe(longer);
  });

  it('gives back a name the model made up as it is', () => {
    expect(toolNames(['echo']).fromProvider('rm_rf')).toBe('rm_rf');
  });
});
