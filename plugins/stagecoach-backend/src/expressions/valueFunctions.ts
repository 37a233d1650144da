import semver from 'semver';
import { stringify as toYaml } from 'yaml';
import { ExpressionError, ExprFunction } from './expressions';
import { withMethods } from './values';

/**
 * Expression functions over plain values: quoting and versions. They need nothing from the
 * promotion, so freight creation criteria and verification arguments can use them too.
 */

/** A value as text, so that a number-like or boolean-like value stays a string in YAML/JSON. */
const quote: ExprFunction = v => {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
};

function parseVersion(v: unknown, fn: string): semver.SemVer {
  if (typeof v !== 'string') throw new ExpressionError(`${fn} needs a version string, got ${v === null ? 'null' : typeof v}`);
  const parsed = semver.parse(v.replace(/^v(?=\d)/, ''), { loose: true });
  if (!parsed) throw new ExpressionError(`${fn}: "${v}" is not a semantic version`);
  return parsed;
}

/**
 * A parsed version: its parts as fields (major, minor, patch, prerelease, metadata, original),
 * and Kargo's methods: Major(), Minor(), Patch(), Prerelease(), Metadata(), Original(),
 * String() (without a "v"), and IncMajor(), IncMinor(), IncPatch(), which give the next
 * version (prerelease and metadata dropped; a prerelease's IncPatch() is its release), keeping
 * a "v" the original had in its Original().
 */
function versionValue(p: semver.SemVer, original: string): Record<string, unknown> {
  const prerelease = p.prerelease.join('.');
  const metadata = p.build.join('.');
  const text = `${p.major}.${p.minor}.${p.patch}${prerelease ? `-${prerelease}` : ''}${metadata ? `+${metadata}` : ''}`;
  const prefix = /^v/i.test(original) ? original[0] : '';
  const next = (major: number, minor: number, patch: number) => {
    const n = semver.parse(`${major}.${minor}.${patch}`)!;
    return versionValue(n, `${prefix}${n.version}`);
  };
  return withMethods(
    { major: p.major, minor: p.minor, patch: p.patch, prerelease, metadata, original },
    {
      Major: () => p.major,
      Minor: () => p.minor,
      Patch: () => p.patch,
      Prerelease: () => prerelease,
      Metadata: () => metadata,
      Original: () => original,
      String: () => text,
      IncMajor: () => next(p.major + 1, 0, 0),
      IncMinor: () => next(p.major, p.minor + 1, 0),
      IncPatch: () => (prerelease ? next(p.major, p.minor, p.patch) : next(p.major, p.minor, p.patch + 1)),
    },
  );
}

/** `semverParse("v1.2.3-rc.1+b5")`: the version's parts, as fields and as Kargo's methods (versionValue). */
const semverParse: ExprFunction = v => versionValue(parseVersion(v, 'semverParse'), v as string);

/**
 * `semverDiff(a, b)`: the most significant part in which two versions differ — Major, Minor,
 * Patch, Metadata (prerelease or build metadata only) or None; Incomparable when either
 * is not a semantic version.
 */
const semverDiff: ExprFunction = (a, b) => {
  const pa = typeof a === 'string' ? semver.parse(a.replace(/^v(?=\d)/, ''), { loose: true }) : null;
  const pb = typeof b === 'string' ? semver.parse(b.replace(/^v(?=\d)/, ''), { loose: true }) : null;
  if (!pa || !pb) return 'Incomparable';
  if (pa.major !== pb.major) return 'Major';
  if (pa.minor !== pb.minor) return 'Minor';
  if (pa.patch !== pb.patch) return 'Patch';
  if (pa.prerelease.join('.') !== pb.prerelease.join('.') || pa.build.join('.') !== pb.build.join('.')) return 'Metadata';
  return 'None';
};

/** The most text asJSON and asYAML give, in characters. */
const MAX_TEXT = 1 << 20;

function bounded(fn: string, text: string): string {
  if (text.length > MAX_TEXT) throw new ExpressionError(`${fn}: the text would be ${text.length} characters long; the most is ${MAX_TEXT}`);
  return text;
}

/** `asJSON(v)`: the value as compact JSON text. */
const asJSON: ExprFunction = v => bounded('asJSON', JSON.stringify(v ?? null));

/** `asYAML(v)`: the value as YAML text. */
const asYAML: ExprFunction = v => bounded('asYAML', toYaml(v ?? null));

export const valueFunctions: Record<string, ExprFunction> = {
  quote,
  asJSON,
  asYAML,
  // Kargo has both; with typed results here, both give the value as text
  unsafeQuote: quote,
  semverParse,
  semverDiff,
};
