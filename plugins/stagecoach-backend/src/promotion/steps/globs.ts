/** Glob and ignore-rule matching for the file steps (delete's globs, copy's ignore rules). */

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
 * Read globs as Kargo's glob library does: `*` also matches dot files, `[!x]` negates a set,
 * no extended globs, `/` is the only separator. A leading `!` is the ignore rules' business.
 */
const OPTIONS: PicomatchOptions = { dot: true, posix: true, nonegate: true, noextglob: true, windows: false };

/** A matcher for slash-separated relative paths. */
export function globMatcher(glob: string): (relPath: string) => boolean {
  const isMatch = picomatch(glob, OPTIONS);
  return p => isMatch(p) === true; // one argument: picomatch reads a second one as "return details"
}

/** The part of a glob before its first wildcard (`out/charts` for `out/charts/**\/*.tgz`). */
export function globBase(glob: string): string {
  return picomatch.scan(glob).base;
}

interface IgnoreRule {
  negate: boolean;
  dirOnly: boolean;
  matches: (relPath: string) => boolean;
}

/**
 * `.gitignore`-style rules: one pattern a line, `#` comments, `!` re-includes, a trailing
 * `/` matches folders only, a pattern holding a `/` is anchored to the top, one without
 * matches at any depth. The last rule that matches a path decides.
 */
export class IgnoreRules {
  private readonly rules: IgnoreRule[];

  constructor(lines: string[]) {
    this.rules = lines.flatMap(line => {
      let p = line.replace(/(?<!\\)\s+$/, '');
      if (p === '' || p.startsWith('#')) return [];
      const negate = p.startsWith('!');
      if (negate) p = p.slice(1);
      else if (p.startsWith('\\!') || p.startsWith('\\#')) p = p.slice(1);
      const dirOnly = p.endsWith('/');
      p = p.replace(/\/+$/, '');
      if (p === '') return [];
      const anchored = p.includes('/');
      p = p.replace(/^\/+/, '');
      return [{ negate, dirOnly, matches: globMatcher(anchored ? p : `**/${p}`) }];
    });
  }

  /** Whether a path (relative to the rules' folder, with `/`) is ignored. */
  ignores(relPath: string, isDir: boolean): boolean {
    let ignored = false;
    for (const rule of this.rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.matches(relPath)) ignored = !rule.negate;
    }
    return ignored;
  }
}
