/** Globs read the way Kargo's glob library reads them, for every place a manifest holds one. */

interface PicomatchOptions {
  dot?: boolean;
  posix?: boolean;
  nonegate?: boolean;
  noextglob?: boolean;
  windows?: boolean;
}
interface Picomatch {
  (glob: string, options: PicomatchOptions): (p: string) => boolean;
  scan(glob: string): { base: string; glob: string };
}
/** picomatch ships no type declarations: the calls used here, typed. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const picomatch: Picomatch = require('picomatch');

/**
 * `*` also matches dot files, a leading `!` is a literal (negation is the caller's business,
 * e.g. ignore rules), no extended globs, `[!x]` negates a set (the `posix` option is what
 * makes picomatch read it so), `/` is the only separator.
 */
const OPTIONS: PicomatchOptions = { dot: true, posix: true, nonegate: true, noextglob: true, windows: false };

/** A matcher for slash-separated relative paths; throws when picomatch cannot read the glob. */
export function globMatcher(glob: string): (relPath: string) => boolean {
  const isMatch = picomatch(glob, OPTIONS);
  return p => isMatch(p) === true; // one argument: picomatch reads a second one as "return details"
}

/** The part of a glob before its first wildcard (`out/charts` for `out/charts/**\/*.tgz`). */
export function globBase(glob: string): string {
  return picomatch.scan(glob).base;
}
