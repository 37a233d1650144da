import type { GitSubscription } from './schema';
import { selectTags } from './selectTags';

const sub = (over: Partial<GitSubscription>): GitSubscription => ({
  repoURL: 'https://g/app.git',
  commitSelectionStrategy: 'SemVer',
  strictSemvers: true,
  discoveryLimit: 20,
  ...over,
});
const tags = (...names: string[]) =>
  names.map((tag, i) => ({
    tag,
    commit: `c${i}`,
    createdAt: `2026-01-0${i + 1}T00:00:00.000Z`,
  }));

describe('selectTags', () => {
  const all = tags(
    'v1.0.0',
    'v1.10.0',
    'v1.9.0',
    'v2.0.0-rc.1',
    'latest',
    '1.2',
    'v2.0.0',
  );

  it('SemVer: highest first, constraint, strictness and limit', () => {
    expect(selectTags(all, sub({})).map(t => t.tag)).toEqual([
      'v2.0.0',
      'v2.0.0-rc.1',
      'v1.10.0',
      'v1.9.0',
      'v1.0.0',
    ]);
    expect(
      selectTags(all, sub({ semverConstraint: '^1.0.0' })).map(t => t.tag),
    ).toEqual(['v1.10.0', 'v1.9.0', 'v1.0.0']);
    expect(
      selectTags(
        all,
        sub({ strictSemvers: false, semverConstraint: '<1.5' }),
      ).map(t => t.tag),
    ).toEqual(['1.2', 'v1.0.0']);
    expect(selectTags(all, sub({ discoveryLimit: 2 })).map(t => t.tag)).toEqual(
      ['v2.0.0', 'v2.0.0-rc.1'],
    );
  });

  it('allow and ignore regexes', () => {
    expect(
      selectTags(
        all,
        sub({ ignoreTagsRegexes: ['-rc'], allowTagsRegexes: ['^v1'] }),
      ).map(t => t.tag),
    ).toEqual(['v1.10.0', 'v1.9.0', 'v1.0.0']);
  });

  it('Lexical: reverse lexical order of the names', () => {
    const dated = tags(
      '2026-01-09',
      '2026-01-10',
      '2025-12-31',
      'zzz-not-a-date',
    );
    expect(
      selectTags(
        dated,
        sub({
          commitSelectionStrategy: 'Lexical',
          allowTagsRegexes: ['^\\d{4}-'],
        }),
      ).map(t => t.tag),
    ).toEqual(['2026-01-10', '2026-01-09', '2025-12-31']);
  });

  it('NewestTag: most recently created first, any name', () => {
    expect(
      selectTags(
        all,
        sub({ commitSelectionStrategy: 'NewestTag', discoveryLimit: 3 }),
      ).map(t => t.tag),
    ).toEqual(['v2.0.0', '1.2', 'latest']);
  });
});
