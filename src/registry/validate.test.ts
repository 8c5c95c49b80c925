import { describe, expect, it } from 'vitest';
import { checkRef, parseModelRef } from './validate.ts';

describe('model references', () => {
  it('parses name, name@alias and name:version', () => {
    expect(parseModelRef('ctr')).toEqual({ name: 'ctr' });
    expect(parseModelRef('ctr@champion')).toEqual({ name: 'ctr', ref: '@champion' });
    expect(parseModelRef('ctr.v2:12')).toEqual({ name: 'ctr.v2', ref: 12 });
    expect(parseModelRef('ctr@latest')).toEqual({ name: 'ctr', ref: '@latest' });
  });

  it('names what is wrong with a bad reference', () => {
    expect(() => parseModelRef('ctr:two')).toThrow('invalid model reference "ctr:two": the part after ":" must be a version number');
    expect(() => parseModelRef('ctr:0')).toThrow(/invalid version/);
    expect(() => parseModelRef('ctr@Champ')).toThrow(/invalid alias/);
    expect(() => parseModelRef('@champion')).toThrow(/invalid model name/);
    expect(() => checkRef('3')).toThrow('invalid version reference "3": expected a version number or @alias');
  });
});
