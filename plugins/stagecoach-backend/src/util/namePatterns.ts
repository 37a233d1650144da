import { parsePathSelector, pathSelectorProblem } from './pathSelectors';

/**
 * Kargo's name patterns, as a ProjectConfig's stage selectors write them: an exact name,
 * `glob:<pattern>`, or `regex:`/`regexp:<pattern>`, with path selectors' syntax (util/pathSelectors).
 * A syntax, like a regular expression's: the manifests check it, stages/selectors matches with it.
 */

const PATTERN_PREFIXES = ['glob:', 'regex:', 'regexp:'];

/** Whether a name pattern is a glob or a regular expression rather than an exact name. */
export function isNamePattern(pattern: string): boolean {
  return PATTERN_PREFIXES.some(p => pattern.startsWith(p));
}

/** Why a stageSelector.name is not usable, or undefined when it is. */
export function namePatternProblem(pattern: string): string | undefined {
  if (isNamePattern(pattern)) {
    const problem = pathSelectorProblem(pattern);
    return problem ? `"${pattern}" ${problem}` : undefined;
  }
  const colon = pattern.indexOf(':');
  if (colon >= 0) {
    // a stage name never holds ":", so this is a pattern with a prefix we do not know
    return `"${pattern.slice(
      0,
      colon,
    )}:" is not a pattern kind: use an exact stage name, glob:<pattern> or regex:<pattern>`;
  }
  return undefined;
}

/** Whether a stage name matches a stageSelector.name. Throws on a pattern namePatternProblem refuses. */
export function matchesNamePattern(pattern: string, name: string): boolean {
  if (isNamePattern(pattern)) return parsePathSelector(pattern)(name);
  return pattern === name;
}
