import path from 'node:path';
import { globMatcher } from './globs';
import { compileRegex, regexProblem } from './safeRegex';

/**
 * Path selectors, as Kargo reads a git subscription's `includePaths` / `excludePaths` (and,
 * with the same prefixes, a stage selector's name pattern: util/namePatterns). Each entry is one of:
 *  - `glob:<pattern>`: a glob over the whole path (`*` and `?` stay within one directory,
 *    `**` crosses directories, `[a-z]`, `[!x]` and `{a,b}` work as in a shell; dot files are
 *    not special).
 *  - `regex:<pattern>` (or `regexp:`): a regular expression, found anywhere in the path
 *    (anchor it with `^` and `$` to match the whole path). It runs on RE2 (util/safeRegex):
 *    no backreferences or lookaround.
 *  - anything else: a file or directory, relative to the repository's root; it selects
 *    itself and everything under it (`apps/api` selects `apps/api/main.go`, not
 *    `apps/api-gateway/main.go`). `.` selects everything.
 * Paths are git's: relative to the repository's root, `/`-separated.
 */
export type PathMatcher = (path: string) => boolean;

const GLOB = 'glob:';
const REGEX_PREFIXES = ['regex:', 'regexp:'];

/** Why a glob is not valid (unclosed `[` or `{`, a trailing `\`), or undefined. */
function globProblem(glob: string): string | undefined {
  if (glob === '') return 'needs a pattern after "glob:"';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      if (i === glob.length - 1) return 'ends with an unfinished escape "\\"';
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!' || glob[j] === '^') j++;
      if (glob[j] === ']') j++; // a leading "]" is a member of the set
      while (j < glob.length && glob[j] !== ']') j += glob[j] === '\\' ? 2 : 1;
      if (j >= glob.length) return `"[" at position ${i + 1} is not closed by "]"`;
      i = j;
    } else if (c === '{') braces++;
    else if (c === '}' && braces > 0) braces--;
  }
  return braces > 0 ? '"{" is not closed by "}"' : undefined;
}

function regexBody(selector: string): string | undefined {
  const prefix = REGEX_PREFIXES.find(p => selector.startsWith(p));
  return prefix === undefined ? undefined : selector.slice(prefix.length);
}

/** A plain entry as a clean relative path: `./apps/api/` is `apps/api`, `.` and `/` are ``. */
function cleanBase(selector: string): string {
  const normal = path.posix.normalize(selector).replace(/^\/+/, '').replace(/\/+$/, '');
  return normal === '.' ? '' : normal;
}

/** Why an includePaths / excludePaths entry is not valid, or undefined when it is. */
export function pathSelectorProblem(selector: string): string | undefined {
  if (selector.startsWith(GLOB)) {
    const glob = selector.slice(GLOB.length);
    const problem = globProblem(glob);
    if (problem) return `is not a valid glob: ${problem}`;
    try {
      globMatcher(glob);
    } catch (e) {
      return `is not a valid glob: ${e instanceof Error ? e.message : String(e)}`;
    }
    return undefined;
  }
  const regex = regexBody(selector);
  if (regex !== undefined) {
    return regexProblem(regex);
  }
  return selector.trim() === '' ? 'must not be empty (use "." for the whole repository)' : undefined;
}

/** The matcher for one entry. Throws when the entry is not valid (see pathSelectorProblem). */
export function parsePathSelector(selector: string): PathMatcher {
  const problem = pathSelectorProblem(selector);
  if (problem) throw new Error(`path selector "${selector}" ${problem}`);
  if (selector.startsWith(GLOB)) return globMatcher(selector.slice(GLOB.length));
  const regex = regexBody(selector);
  if (regex !== undefined) {
    const re = compileRegex(regex);
    return p => re.test(p);
  }
  const base = cleanBase(selector);
  if (base === '') return () => true;
  return p => p === base || p.startsWith(`${base}/`);
}
