import { filterTags } from '../discovery/image/orderTags';
import { orderTags } from '../discovery/git/selectTags';
import { matchesNamePattern } from './namePatterns';
import { parsePathSelector } from './pathSelectors';
import { ruleMatches } from '../verification/analysisTemplate';
import { compileRegex, MAX_PATTERN_LENGTH, regexProblem } from './safeRegex';

/**
 * ReDoS (issue 11, finding 7). `^(a+)+$` against a long run of `a`s ending in `!` takes
 * V8's backtracking engine exponential time: 30 characters are seconds, 50,000 would never
 * end. On the old code these tests hang on the event loop until jest's timeout for the whole
 * test fails them; there is no timing assertion here: each test asserts the answer.
 */
describe('regexes from manifests run on a linear-time engine', () => {
  const evil = '^(a+)+$';
  const longTag = `${'a'.repeat(50_000)}!`;

  it('answers ^(a+)+$ against a 50,000-character tag at every place a manifest puts a regex', () => {
    expect(compileRegex(evil).test(longTag)).toBe(false);
    expect(compileRegex(evil).test('aaaa')).toBe(true);
    // image subscriptions
    expect(filterTags([longTag, 'aaa'], { allowTagsRegexes: [evil] })).toEqual(['aaa']);
    expect(filterTags([longTag, 'aaa'], { ignoreTagsRegexes: [evil] })).toEqual([longTag]);
    // git subscriptions (tags)
    const tags = orderTags([{ tag: longTag, commit: 'c1' }, { tag: 'aa', commit: 'c2' }], {
      repoURL: 'https://git.example.com/a.git',
      commitSelectionStrategy: 'Lexical',
      allowTagsRegexes: [evil],
    } as Parameters<typeof orderTags>[1]);
    expect(tags.map(t => t.commit)).toEqual(['c2']);
    // includePaths / excludePaths and ProjectConfig stage selectors
    expect(parsePathSelector(`regex:${evil}`)(longTag)).toBe(false);
    expect(matchesNamePattern(`regex:${evil}`, longTag)).toBe(false);
    // AnalysisTemplate dryRun / measurementRetention metricName
    expect(ruleMatches(evil, longTag)).toBe(false);
  });

  it('matches as RegExp.test does: a search unless anchored', () => {
    expect(compileRegex('rc').test('1.0.0-rc.1')).toBe(true);
    expect(compileRegex('^v?\\d+\\.\\d+\\.\\d+$').test('v1.2.3')).toBe(true);
    expect(compileRegex('^v?\\d+\\.\\d+\\.\\d+$').test('v1.2.3-rc.1')).toBe(false);
    // JavaScript spellings RE2 writes differently are read as JavaScript means them
    expect(compileRegex('^\\u0041(?<rest>b+)$').test('Abb')).toBe(true);
  });

  it('accepts RE2 syntax and refuses, in words, what RE2 cannot run in linear time', () => {
    expect(regexProblem('^(a+)+$')).toBeUndefined();
    expect(regexProblem('^release-[0-9]+(\\.[0-9]+)*$')).toBeUndefined();
    expect(regexProblem('(a)\\1')).toMatch(/^is not a valid regular expression: .*no backreferences/);
    expect(regexProblem('^v(?=\\d)')).toMatch(/^is not a valid regular expression: .*no lookaround/);
    expect(regexProblem('(?<!x)y')).toMatch(/no lookaround/);
    expect(regexProblem('(unclosed')).toMatch(/^is not a valid regular expression: missing closing \)/);
    expect(regexProblem('a'.repeat(MAX_PATTERN_LENGTH))).toBeUndefined();
    expect(regexProblem('a'.repeat(MAX_PATTERN_LENGTH + 1))).toBe(
      `is ${MAX_PATTERN_LENGTH + 1} characters long; a pattern may have at most ${MAX_PATTERN_LENGTH}`,
    );
    expect(() => compileRegex('(a)\\1', 'allowTagsRegexes[2]')).toThrow(
      /^allowTagsRegexes\[2\] "\(a\)\\1" is not a valid regular expression: .*backreferences/,
    );
  });
});
