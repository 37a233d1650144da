import semver from 'semver';
import type { GitSubscription } from './schema';
import type { TagFacts } from './metadataFilter';
import { compileRegex, SafeRegex } from '../../util/safeRegex';
import { semverRangeOf } from '../../util/semverConstraint';

export interface TagCandidate {
  tag: string;
  commit: string;
  /** Tag creation time (ISO), needed by NewestTag. */
  createdAt?: string;
  /** What expressionFilter sees of the tag, when it was read from the mirror. */
  facts?: TagFacts;
}

/** Plain code-point order, the same on every machine and locale. */
function byCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** The subscription's allowTagsRegexes / ignoreTagsRegexes as a test, compiled once (on RE2). */
function tagRegexFilter(sub: GitSubscription): (tag: string) => boolean {
  const compileAll = (list: string[] | undefined, field: string): SafeRegex[] =>
    (list ?? []).map((r, i) => compileRegex(r, `${field}[${i}]`));
  const allow = compileAll(sub.allowTagsRegexes, 'allowTagsRegexes');
  const ignore = compileAll(sub.ignoreTagsRegexes, 'ignoreTagsRegexes');
  return tag => (allow.length === 0 || allow.some(r => r.test(tag))) && !ignore.some(r => r.test(tag));
}

function parseSemver(tag: string, strict: boolean): semver.SemVer | null {
  if (strict) return semver.parse(tag);
  return semver.parse(tag) ?? semver.coerce(tag, { includePrerelease: true });
}

/**
 * Orders a repository's tags by the subscription's strategy, newest first, and keeps at
 * most `discoveryLimit` of them.
 *  - SemVer: tags that are semantic versions (and satisfy `semverConstraint`), highest first.
 *  - Lexical: every tag, in reverse lexical order (e.g. dated tags such as 2026-11-22.1).
 *  - NewestTag: every tag, most recently created first.
 */
export function selectTags(
  candidates: TagCandidate[],
  sub: GitSubscription,
): TagCandidate[] {
  return orderTags(candidates, sub).slice(0, sub.discoveryLimit ?? 20);
}

/** The tags selectTags would pick from, best first, without the `discoveryLimit` cut. */
export function orderTags(
  candidates: TagCandidate[],
  sub: GitSubscription,
): TagCandidate[] {
  const allowedTag = tagRegexFilter(sub);
  const allowed = candidates.filter(c => allowedTag(c.tag));
  let ordered: TagCandidate[];
  if (sub.commitSelectionStrategy === 'SemVer') {
    const strict = sub.strictSemvers ?? true;
    const range = sub.semverConstraint ? semverRangeOf(sub.semverConstraint, 'semverConstraint') : undefined;
    ordered = allowed
      .map(c => ({ c, v: parseSemver(c.tag, strict) }))
      .filter((x): x is { c: TagCandidate; v: semver.SemVer } => x.v !== null)
      .filter(x => !range || range.test(x.v))
      .sort(
        (a, b) => semver.rcompare(a.v, b.v) || a.c.tag.localeCompare(b.c.tag),
      )
      .map(x => x.c);
  } else if (sub.commitSelectionStrategy === 'Lexical') {
    ordered = [...allowed].sort((a, b) => byCodePoints(b.tag, a.tag));
  } else {
    ordered = [...allowed].sort(
      (a, b) =>
        (b.createdAt ?? '').localeCompare(a.createdAt ?? '') ||
        b.tag.localeCompare(a.tag),
    );
  }
  return ordered;
}
