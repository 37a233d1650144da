import path from 'node:path';
import { callInChildProcess, endChildCalls } from '../__testUtils__/inChildProcess';

/**
 * Issue 11, finding 7 (ReDoS): tag, path and selector patterns from manifests ran on V8's
 * backtracking RegExp, on the event loop; `^(a+)+$` against a long tag stalled the whole
 * backend. Each call below runs the real code in a process of its own (callInChildProcess): on
 * the old code that process never answers and the test fails by jest's timeout of the whole test (60 s,
 * generous for a loaded machine); there is no timing assertion, each test asserts the answer.
 */
const src = path.resolve(__dirname, '..');
const EVIL = '^(a+)+$';
const LONG_TAG = `${'a'.repeat(50_000)}!`;
const TIMEOUT = 60_000;

describe('security: patterns from manifests cannot stall the backend (ReDoS)', () => {
  afterEach(endChildCalls);

  it(
    'image subscriptions: allowTagsRegexes ^(a+)+$ against a 50,000-character tag',
    async () => {
      const kept = await callInChildProcess<string[]>(path.join(src, 'discovery/image/orderTags.ts'), 'filterTags', [
        [LONG_TAG, 'aaa'],
        { allowTagsRegexes: [EVIL] },
      ]);
      expect(kept).toEqual(['aaa']);
    },
    TIMEOUT,
  );

  it(
    'git subscriptions: ignoreTagsRegexes ^(a+)+$ against a 50,000-character tag',
    async () => {
      const ordered = await callInChildProcess<Array<{ tag: string }>>(path.join(src, 'discovery/git/selectTags.ts'), 'orderTags', [
        [
          { tag: LONG_TAG, commit: 'c1' },
          { tag: 'aa', commit: 'c2' },
        ],
        { repoURL: 'https://git.example.com/a.git', commitSelectionStrategy: 'Lexical', ignoreTagsRegexes: [EVIL] },
      ]);
      expect(ordered.map(t => t.tag)).toEqual([LONG_TAG]);
    },
    TIMEOUT,
  );

  it(
    'ProjectConfig stage selectors and path filters: regex:^(a+)+$ and a glob of many stars',
    async () => {
      const selectors = path.join(src, 'util/namePatterns.ts');
      expect(await callInChildProcess<boolean>(selectors, 'matchesNamePattern', [`regex:${EVIL}`, LONG_TAG])).toBe(false);
      // picomatch compiled each * to [^/]*? : 40 characters took it 21 s on this machine
      expect(
        await callInChildProcess<boolean>(selectors, 'matchesNamePattern', ['glob:*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5_000)]),
      ).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'AnalysisTemplate dryRun / measurementRetention metricName rules',
    async () => {
      const matches = await callInChildProcess<boolean>(path.join(src, 'verification/analysisTemplate.ts'), 'ruleMatches', [
        EVIL,
        LONG_TAG,
      ]);
      expect(matches).toBe(false);
    },
    TIMEOUT,
  );
});
