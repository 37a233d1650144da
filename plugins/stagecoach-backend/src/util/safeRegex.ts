import { RE2JS } from 're2js';

/**
 * Regular expressions written by users (manifests, config) run here, on RE2 (the `re2js`
 * port): matching takes time linear in the input, whatever the pattern, so a pattern such as
 * `^(a+)+$` cannot stall the backend's event loop the way V8's backtracking engine lets it.
 *
 * Patterns are JavaScript-flavoured as people write them: JavaScript escapes (`\u0041`,
 * `[^]`) and named groups `(?<name>...)` are read as RE2 reads theirs. What RE2 cannot do in
 * linear time is refused with a message saying so: backreferences (`\1`, `\k<name>`) and
 * lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`). Matching is a search, as `RegExp.test` is:
 * anchor with `^` and `$` to match the whole text.
 */

/** The longest pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 1000;

/** A compiled pattern: `test` is true when the pattern is found anywhere in the text. */
export interface SafeRegex {
  readonly source: string;
  test(text: string): boolean;
}

const UNSUPPORTED =
  'RE2 (the linear-time engine Stagecoach runs patterns on) has no backreferences (\\1, \\k<name>) and no lookaround ((?=, (?!, (?<=, (?<!)';

/** What RE2 said, in a sentence: `missing closing ): "("`. */
function explain(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const reason = message.replace(/^error parsing regexp:\s*/, '');
  if (/invalid or unsupported Perl syntax|invalid named capture|invalid escape sequence: `\\(\d|k)/.test(message)) {
    return `${reason}: ${UNSUPPORTED}`;
  }
  return reason;
}

function compile(pattern: string): RE2JS {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new Error(`is ${pattern.length} characters long; a pattern may have at most ${MAX_PATTERN_LENGTH}`);
  }
  let translated: string;
  try {
    translated = RE2JS.translateRegExp(pattern);
  } catch {
    translated = pattern; // compile says what is wrong with it
  }
  try {
    return RE2JS.compile(translated);
  } catch (e) {
    throw new Error(`is not a valid regular expression: ${explain(e)}`);
  }
}

/**
 * Why a pattern cannot be used (too long, not valid, or using what RE2 lacks), in words that
 * follow its field's name (`allowTagsRegexes[0] "<problem>"`), or undefined when it can.
 */
export function regexProblem(pattern: string): string | undefined {
  try {
    compile(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Compiles a user's pattern; throws an Error naming `what` (the field, such as
 * `allowTagsRegexes[0]`) and the problem when it cannot be used.
 */
export function compileRegex(pattern: string, what = 'pattern'): SafeRegex {
  let re: RE2JS;
  try {
    re = compile(pattern);
  } catch (e) {
    throw new Error(`${what} "${pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern}" ${(e as Error).message}`);
  }
  return { source: pattern, test: text => re.test(text) };
}

/**
 * Compiles a pattern that Stagecoach built itself (a glob's translation): matched against
 * the whole text. Throws when the translation is not RE2 syntax (a bug, not a user error).
 */
export function compileWholeMatch(source: string): SafeRegex {
  const re = RE2JS.compile(source);
  return { source, test: text => re.testExact(text) };
}
