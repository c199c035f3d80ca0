import { describe, expect, it } from 'vitest';
import { alignAttributes, normaliseValue } from './attributes';

describe('alignAttributes', () => {
  it('matches keys by local name and marks shared, differing and one-sided values', () => {
    const rows = alignAttributes(
      [
        { key: 'http://zh.dbpedia.org/property/birthYear', value: '1950' },
        { key: 'http://zh.dbpedia.org/property/name', value: '李' },
        { key: 'http://zh.dbpedia.org/property/height', value: '1.80' },
        { key: 'http://zh.dbpedia.org/property/only', value: 'x' },
      ],
      [
        { key: 'http://dbpedia.org/property/birthYear', value: ' 1950 ' },
        { key: 'http://dbpedia.org/property/name', value: 'Li' },
        { key: 'http://dbpedia.org/property/height', value: '1.8' },
        { key: 'http://dbpedia.org/property/mine', value: 'y' },
      ],
    );
    expect(rows.map((r) => [r.name, r.status])).toEqual([
      ['birthyear', 'same'],
      ['height', 'same'],
      ['name', 'differ'],
      ['only', 'left-only'],
      ['mine', 'right-only'],
    ]);
    expect(rows[2]).toMatchObject({ left: ['李'], right: ['Li'] });
  });

  it('keeps every value of a repeated key', () => {
    const rows = alignAttributes(
      [
        { key: 'a/p', value: '1' },
        { key: 'a/p', value: '2' },
      ],
      [{ key: 'b/p', value: '2' }],
    );
    expect(rows).toEqual([{ name: 'p', left: ['1', '2'], right: ['2'], status: 'same' }]);
  });

  it('normalises case, spaces and number spellings', () => {
    expect(normaliseValue('  New   York ')).toBe('new york');
    expect(normaliseValue('3.50')).toBe('3.5');
    expect(normaliseValue('')).toBe('');
  });
});
