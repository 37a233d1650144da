/*
 * Regex benchmark: what running manifest patterns on RE2 (re2js, util/safeRegex) costs next
 * to V8's RegExp, in the same process, and what a pathological pattern costs on each.
 *  - tags: BENCH_TAGS tags (default 10,000: semver tags, build tags, release candidates)
 *    filtered by the patterns a warehouse typically holds, BENCH_ROUNDS rounds after a warm-up
 *    round; the median round of each engine and their ratio;
 *  - globs: the same paths matched by a few globs, util/globs (RE2) against picomatch;
 *  - pathological: `^(a+)+$` against `a` × N + `!` on RE2 for N = 50,000, and on V8 for
 *    N = 20…24 (V8 doubles its time with each character; 50,000 would never end).
 * Progress goes to stderr; the last line of stdout is one JSON object.
 *
 *   yarn bench:regex
 *   BENCH_TAGS=100000 yarn bench:regex
 */
import { globMatcher } from '../plugins/stagecoach-backend/src/util/globs';
import { compileRegex } from '../plugins/stagecoach-backend/src/util/safeRegex';
import { intFromEnv, log, reportFailure, round2 } from './common';

/** picomatch ships no type declarations: the call used here, typed. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const picomatch: (glob: string, options: object) => (p: string) => boolean = require('picomatch');

const TAGS = intFromEnv('BENCH_TAGS', 10_000);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 7);

const PATTERNS = ['^v?[0-9]+\\.[0-9]+\\.[0-9]+$', '-rc\\.[0-9]+$', '^build-[0-9]+-[a-f0-9]{7}$', 'alpha|beta'];
const GLOBS = ['**/*.yaml', 'apps/*/main.go', 'charts/{api,web}/**', 'docs/[a-m]*.md'];

function makeTags(n: number): string[] {
  const tags: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 4 === 0) tags.push(`v${i % 7}.${i % 13}.${i}`);
    else if (i % 4 === 1) tags.push(`${i % 5}.${i % 11}.0-rc.${i % 3}`);
    else if (i % 4 === 2) tags.push(`build-${i}-${(i * 2654435761).toString(16).slice(0, 7).padStart(7, '0')}`);
    else tags.push(`feature-${i}-alpha`);
  }
  return tags;
}

function makePaths(n: number): string[] {
  const dirs = ['apps/api', 'apps/web', 'charts/api', 'charts/web/templates', 'docs', '.github/workflows'];
  const files = ['main.go', 'values.yaml', 'index.md', 'guide.md', 'deploy.yaml', 'README.md'];
  return Array.from({ length: n }, (_, i) => `${dirs[i % dirs.length]}/${files[(i >> 3) % files.length]}`);
}

/** Milliseconds one call of `f` takes, the median of ROUNDS rounds after one warm-up round. */
function median(f: () => number): { ms: number; result: number } {
  let result = f();
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    result = f();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], result };
}

function countMatches(items: string[], tests: Array<(s: string) => boolean>): number {
  let n = 0;
  for (const s of items) for (const t of tests) if (t(s)) n++;
  return n;
}

function main() {
  const tags = makeTags(TAGS);
  const paths = makePaths(TAGS);
  log(`${TAGS} tags, ${PATTERNS.length} patterns; ${TAGS} paths, ${GLOBS.length} globs; ${ROUNDS} rounds`);

  const v8 = PATTERNS.map(p => new RegExp(p));
  const re2 = PATTERNS.map(p => compileRegex(p));
  const tagsV8 = median(() => countMatches(tags, v8.map(r => (s: string) => r.test(s))));
  const tagsRe2 = median(() => countMatches(tags, re2.map(r => (s: string) => r.test(s))));
  if (tagsV8.result !== tagsRe2.result) throw new Error(`the engines disagree: V8 ${tagsV8.result} matches, RE2 ${tagsRe2.result}`);

  const options = { dot: true, posix: true, nonegate: true, noextglob: true, windows: false };
  const pm = GLOBS.map(g => picomatch(g, options));
  const ours = GLOBS.map(g => globMatcher(g));
  const globsPm = median(() => countMatches(paths, pm.map(m => (s: string) => m(s) === true)));
  const globsRe2 = median(() => countMatches(paths, ours));
  if (globsPm.result !== globsRe2.result) throw new Error(`the glob matchers disagree: picomatch ${globsPm.result}, RE2 ${globsRe2.result}`);

  const evil = '^(a+)+$';
  const long = `${'a'.repeat(50_000)}!`;
  const start = process.hrtime.bigint();
  compileRegex(evil).test(long);
  const evilRe2Ms = Number(process.hrtime.bigint() - start) / 1e6;
  const evilV8: Record<string, number> = {};
  for (let n = 20; n <= 24; n++) {
    const s = process.hrtime.bigint();
    new RegExp(evil).test(`${'a'.repeat(n)}!`);
    evilV8[n] = round2(Number(process.hrtime.bigint() - s) / 1e6);
  }

  const result = {
    tags: TAGS,
    patterns: PATTERNS.length,
    tagsMs: { v8: round2(tagsV8.ms), re2: round2(tagsRe2.ms), ratio: round2(tagsRe2.ms / tagsV8.ms) },
    globsMs: { picomatch: round2(globsPm.ms), re2: round2(globsRe2.ms), ratio: round2(globsRe2.ms / globsPm.ms) },
    pathologicalMs: { re2At50000: round2(evilRe2Ms), v8ByLength: evilV8 },
  };
  log(
    `tags: V8 ${result.tagsMs.v8} ms, RE2 ${result.tagsMs.re2} ms (×${result.tagsMs.ratio}); ` +
      `globs: picomatch ${result.globsMs.picomatch} ms, RE2 ${result.globsMs.re2} ms (×${result.globsMs.ratio}); ` +
      `^(a+)+$: RE2 ${result.pathologicalMs.re2At50000} ms at 50,000 characters, V8 ${JSON.stringify(evilV8)} ms at 20…24`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

try {
  main();
} catch (e) {
  reportFailure(e);
}
