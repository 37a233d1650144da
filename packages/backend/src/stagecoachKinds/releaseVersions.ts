/*
 * The versions a release feed lists, read and compared as semantic versions
 * (MAJOR.MINOR.PATCH, an optional `-prerelease`, an optional leading `v`), and the
 * constraints a subscription may put on them: comparators joined by spaces, all of which
 * must hold, such as `>=1.2.0 <2.0.0`.
 */

export interface ReleaseVersion {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated identifiers after `-`; empty for a release. */
  prerelease: string[];
}

const VERSION =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;
const COMPARATOR = /^(>=|<=|>|<|=)?(.+)$/;

export function parseVersion(text: string): ReleaseVersion | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] ? m[4].split('.') : [],
  };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Number(a) - Number(b);
  // numeric identifiers sort before alphanumeric ones
  if (an !== bn) return an ? -1 : 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Negative when `a` comes before `b` in semantic version precedence. */
export function compareVersions(a: ReleaseVersion, b: ReleaseVersion): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  // a pre-release comes before its release
  if (!a.prerelease.length || !b.prerelease.length)
    return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const c = compareIdentifiers(a.prerelease[i], b.prerelease[i]);
    if (c !== 0) return c;
  }
  return a.prerelease.length - b.prerelease.length;
}

/** A version constraint, checked; a string says what is wrong with it. */
export function parseConstraint(
  text: string,
): ((v: ReleaseVersion) => boolean) | string {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return 'must hold at least one comparator';
  const tests: Array<(v: ReleaseVersion) => boolean> = [];
  for (const part of parts) {
    const [, op = '=', rest] = COMPARATOR.exec(part)!;
    const bound = parseVersion(rest);
    if (!bound) {
      return `"${part}" is not a comparator such as >=1.2.0 or <2.0.0`;
    }
    tests.push(v => {
      const c = compareVersions(v, bound);
      switch (op) {
        case '>=':
          return c >= 0;
        case '<=':
          return c <= 0;
        case '>':
          return c > 0;
        case '<':
          return c < 0;
        default:
          return c === 0;
      }
    });
  }
  return v => tests.every(t => t(v));
}
