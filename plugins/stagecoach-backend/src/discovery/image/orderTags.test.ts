import {
  filterTags,
  orderBySemver,
  orderByBuildTime,
  orderLexically,
} from './orderTags';

describe('image tag selection', () => {
  const tags = [
    '1.0.0',
    'v1.10.0',
    '1.9.0',
    '2.0.0-rc.1',
    '2.0.0',
    'latest',
    '1.2',
    'v1.0.0',
    'sha-abc123',
  ];

  it('SemVer: highest first, strict by default, constraint as a range', () => {
    expect(orderBySemver(tags, {})).toEqual([
      '2.0.0',
      '2.0.0-rc.1',
      'v1.10.0',
      '1.9.0',
      'v1.0.0',
      '1.0.0',
    ]);
    expect(orderBySemver(tags, { constraint: '^1.0.0' })).toEqual([
      'v1.10.0',
      '1.9.0',
      'v1.0.0',
      '1.0.0',
    ]);
    expect(
      orderBySemver(tags, { constraint: '<1.5', strictSemvers: false }),
    ).toEqual(['1.2', 'v1.0.0', '1.0.0']);
    expect(() => orderBySemver(tags, { constraint: 'newest please' })).toThrow(
      'constraint "newest please" is not a semver constraint',
    );
    // Kargo's comma between comparators means "and"
    expect(orderBySemver(tags, { constraint: '>=1.0.0, <1.5' })).toEqual(['v1.0.0', '1.0.0']);
  });

  it('Lexical: reverse order of names', () => {
    expect(orderLexically(['a', 'b10', 'b9', 'B'])).toEqual([
      'b9',
      'b10',
      'a',
      'B',
    ]);
  });

  it('NewestBuild: latest build first, unknown last', () => {
    expect(
      orderByBuildTime([
        { tag: 'old', createdAt: '2026-01-01T00:00:00.000Z' },
        { tag: 'unknown' },
        { tag: 'new', createdAt: '2026-03-01T00:00:00.000Z' },
      ]).map(i => i.tag),
    ).toEqual(['new', 'old', 'unknown']);
  });

  it('allow and ignore regexes', () => {
    expect(
      filterTags(tags, {
        allowTagsRegexes: ['^v?1\\.'],
        ignoreTagsRegexes: ['^1\\.9'],
      }),
    ).toEqual(['1.0.0', 'v1.10.0', '1.2', 'v1.0.0']);
  });
});
