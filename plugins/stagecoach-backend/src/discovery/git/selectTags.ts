import semver from 'semver';
import type { GitSubscription } from '../../manifests/schemas';

export interface TagCandidate {
  tag: string;
  commit: string;
  /** Tag creation time (ISO), needed by NewestTag. */
  createdAt?: string;
}

/** Plain code-point order, the same on every machine and locale. */
function byCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function allowedByRegexes(tag: string, sub: GitSubscription): boolean {
  if (
    sub.allowTagsRegexes?.length &&
    !sub.allowTagsRegexes.some(r => new RegExp(r).test(tag))
  )
    return false;
  if (sub.ignoreTagsRegexes?.some(r => new RegExp(r).test(tag))) return false;
  return true;
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
  const allowed = candidates.filter(c => allowedByRegexes(c.tag, sub));
  let ordered: TagCandidate[];
  if (sub.commitSelectionStrategy === 'SemVer') {
    const strict = sub.strictSemvers ?? true;
    ordered = allowed
      .map(c => ({ c, v: parseSemver(c.tag, strict) }))
      .filter((x): x is { c: TagCandidate; v: semver.SemVer } => x.v !== null)
      .filter(
        x =>
          !sub.semverConstraint ||
          semver.satisfies(x.v, sub.semverConstraint, {
            includePrerelease: false,
          }),
      )
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
