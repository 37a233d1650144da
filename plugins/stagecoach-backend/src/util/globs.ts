import { compileWholeMatch, MAX_PATTERN_LENGTH } from './safeRegex';

/**
 * Globs, read the way Kargo's glob library reads them, for every place a manifest or a step
 * holds one. Each glob is translated into an RE2 expression matched against the whole path,
 * so matching is linear in the path's length whatever the glob (a backtracking matcher takes
 * seconds on `*a*a*a*a*a*a*a*a*a*a*b` against forty `a`s).
 *
 * - `*` matches any run of characters except `/`, `?` one character except `/`;
 * - `**` as a whole segment crosses directories: `**\/x` matches `x` at any depth, `a/**`
 *   matches `a` and everything under it, `a/**\/b` matches `a/b` and `a/x/y/b`; written inside
 *   a segment (`a**b`) it is a `*`;
 * - `[abc]`, `[a-z]`, `[[:alpha:]]`, and `[!x]` / `[^x]` (never `/`);
 * - `{a,b}` alternatives, which may hold globs and nest; braces without a comma are literal;
 * - `\` escapes the next character; everything else is literal, including `(`, `|`, `+`, `@`
 *   and a leading `!` (no extended globs, no negation: negation is the caller's business,
 *   e.g. ignore rules);
 * - dot files are not special, and `/` is the only separator.
 */

const WILDCARDS = new Set(['*', '?', '[', '{', '\\']);

/** A character as an RE2 literal. */
function literal(c: string): string {
  return /[A-Za-z0-9_/]/.test(c) || c.charCodeAt(0) > 127 ? c : `\\${c}`;
}

/** The index of the `]` closing the set opened at `start`, or -1. */
function setEnd(glob: string, start: number): number {
  let j = start + 1;
  if (glob[j] === '!' || glob[j] === '^') j++;
  if (glob[j] === ']') j++; // a leading "]" is a member of the set
  while (j < glob.length && glob[j] !== ']') {
    if (glob[j] === '\\') j += 2;
    else if (glob.startsWith('[:', j)) {
      const close = glob.indexOf(':]', j + 2);
      j = close >= 0 ? close + 2 : j + 1;
    } else j++;
  }
  return j < glob.length ? j : -1;
}

const POSIX_CLASSES = new Set(['alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit']);

/** `[...]` (from `start` to its `]` at `end`) as an RE2 class. */
function translateSet(glob: string, start: number, end: number): string {
  let i = start + 1;
  const negated = glob[i] === '!' || glob[i] === '^';
  if (negated) i++;
  let body = '';
  let first = true;
  while (i < end) {
    const posix = /^\[:([a-z]+):\]/.exec(glob.slice(i, end + 1));
    if (posix && POSIX_CLASSES.has(posix[1])) {
      body += posix[0];
      i += posix[0].length;
    } else if (glob[i] === '-' && !first && i + 1 < end) {
      body += '-';
      i++;
    } else if (glob[i] === '\\' && i + 1 < end) {
      body += literal(glob[i + 1]);
      i += 2;
    } else {
      body += literal(glob[i]);
      i++;
    }
    first = false;
  }
  return negated ? `[^/${body}]` : `[${body}]`;
}

/** The index of the `}` closing the braces opened at `start` and whether they hold a top-level comma. */
function braceEnd(glob: string, start: number): { end: number; alternatives: boolean } {
  let depth = 0;
  let alternatives = false;
  for (let j = start; j < glob.length; j++) {
    const c = glob[j];
    if (c === '\\') j++;
    else if (c === '[') {
      const e = setEnd(glob, j);
      if (e >= 0) j = e;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return { end: j, alternatives };
    else if (c === ',' && depth === 1) alternatives = true;
  }
  return { end: -1, alternatives: false };
}

/** Splits the inside of braces at their top-level commas. */
function splitAlternatives(inner: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let j = 0; j < inner.length; j++) {
    const c = inner[j];
    if (c === '\\') j++;
    else if (c === '[') {
      const e = setEnd(inner, j);
      if (e >= 0) j = e;
    } else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(inner.slice(from, j));
      from = j + 1;
    }
  }
  out.push(inner.slice(from));
  return out;
}

/** A glob (or an alternative inside braces) as RE2 syntax. */
function translate(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i];
    if (c === '*') {
      let j = i;
      while (glob[j] === '*') j++;
      const segmentStart = i === 0 || glob[i - 1] === '/';
      const segmentEnd = j === glob.length || glob[j] === '/';
      if (j - i >= 2 && segmentStart && segmentEnd) {
        if (j === glob.length) {
          // `a/**`: `a` itself and everything under it; `**` alone: everything
          out = out.endsWith('/') ? `${out.slice(0, -1)}(?:/.*)?` : `${out}.*`;
          i = j;
        } else {
          out += '(?:.*/)?'; // `**/`: no folder, or any folders
          i = j + 1;
        }
      } else {
        out += '[^/]*';
        i = j;
      }
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '\\') {
      if (i + 1 < glob.length) out += literal(glob[i + 1]);
      i += 2;
    } else if (c === '[') {
      const end = setEnd(glob, i);
      if (end < 0) {
        out += literal(c);
        i++;
      } else {
        out += translateSet(glob, i, end);
        i = end + 1;
      }
    } else if (c === '{') {
      const { end, alternatives } = braceEnd(glob, i);
      if (end < 0 || !alternatives) {
        out += literal(c);
        i++;
      } else {
        out += `(?:${splitAlternatives(glob.slice(i + 1, end)).map(translate).join('|')})`;
        i = end + 1;
      }
    } else {
      out += literal(c);
      i++;
    }
  }
  return out;
}

/** The RE2 expression a glob is matched with (against the whole path). */
export function globToRegexSource(glob: string): string {
  return translate(glob);
}

/** A matcher for slash-separated relative paths; throws when the glob is too long. */
export function globMatcher(glob: string): (relPath: string) => boolean {
  if (glob.length > MAX_PATTERN_LENGTH) {
    throw new Error(`it has ${glob.length} characters; a glob may have at most ${MAX_PATTERN_LENGTH}`);
  }
  const re = compileWholeMatch(translate(glob));
  return p => re.test(p);
}

/** The part of a glob before its first segment with a wildcard (`out/charts` for `out/charts/**\/*.tgz`). */
export function globBase(glob: string): string {
  const segments = glob.split('/');
  const fixed: string[] = [];
  for (const s of segments.slice(0, -1)) {
    if ([...s].some(c => WILDCARDS.has(c))) break;
    fixed.push(s);
  }
  if (fixed.length === segments.length - 1 && ![...segments[segments.length - 1]].some(c => WILDCARDS.has(c))) {
    return glob; // no wildcard at all: the glob names one path
  }
  return fixed.join('/');
}
