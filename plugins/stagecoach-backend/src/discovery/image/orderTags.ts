import semver from 'semver';
import type { ImageSubscription } from './schema';
import { compileRegex } from '../../util/safeRegex';
import { semverRangeOf } from '../../util/semverConstraint';

/** Tags that pass `allowTagsRegexes` (any of them, when given) and none of `ignoreTagsRegexes`. */
export function filterTags(
  tags: string[],
  sub: Pick<ImageSubscription, 'allowTagsRegexes' | 'ignoreTagsRegexes'>,
): string[] {
  // on RE2: a pattern from a manifest cannot stall the backend, whatever the tags
  const allow = (sub.allowTagsRegexes ?? []).map((r, i) => compileRegex(r, `allowTagsRegexes[${i}]`));
  const ignore = (sub.ignoreTagsRegexes ?? []).map((r, i) => compileRegex(r, `ignoreTagsRegexes[${i}]`));
  return tags.filter(
    t =>
      (allow.length === 0 || allow.some(r => r.test(t))) &&
      !ignore.some(r => r.test(t)),
  );
}

function parseSemver(tag: string, strict: boolean): semver.SemVer | null {
  if (strict) return semver.parse(tag);
  return semver.parse(tag) ?? semver.coerce(tag, { includePrerelease: true });
}

/**
 * SemVer: the tags that are semantic versions (only full X.Y.Z ones when strictSemvers,
 * `v` prefix allowed) satisfying `constraint`, highest first. Equal versions written
 * differently (`1.0.0`, `v1.0.0`) are ordered by name, so the order never depends on the
 * registry's listing order.
 */
export function orderBySemver(
  tags: string[],
  sub: { constraint?: string; strictSemvers?: boolean },
): string[] {
  const strict = sub.strictSemvers ?? true;
  const range = sub.constraint ? semverRangeOf(sub.constraint, 'constraint') : undefined;
  return tags
    .map(tag => ({ tag, v: parseSemver(tag, strict) }))
    .filter(
      (x): x is { tag: string; v: semver.SemVer } =>
        x.v !== null && (!range || range.test(x.v)),
    )
    .sort((a, b) => semver.rcompare(a.v, b.v) || compareNames(b.tag, a.tag))
    .map(x => x.tag);
}

/** Lexical: reverse order of tag names, compared character by character (not by locale). */
export function orderLexically(tags: string[]): string[] {
  return [...tags].sort((a, b) => compareNames(b, a));
}

/** NewestBuild: latest build time first; tags whose time is unknown last; ties by reverse name. */
export function orderByBuildTime<T extends { tag: string; createdAt?: string }>(
  images: T[],
): T[] {
  return [...images].sort(
    (a, b) =>
      (b.createdAt ? Date.parse(b.createdAt) : -Infinity) -
        (a.createdAt ? Date.parse(a.createdAt) : -Infinity) ||
      compareNames(b.tag, a.tag),
  );
}

function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
