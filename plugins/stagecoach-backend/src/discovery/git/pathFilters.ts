import { parsePathSelector } from '../../util/pathSelectors';

/** Whether a commit's changed files make it count, given a subscription's path filters. */
export interface PathFilter {
  /**
   * True when at least one of the paths is included (every path is when includePaths is
   * empty) and not excluded. A commit that changes no file never matches.
   */
  matches(paths: readonly string[]): boolean;
}

/** The subscription's path filter, or undefined when it sets neither includePaths nor excludePaths. */
export function pathFilter(sub: {
  includePaths?: string[];
  excludePaths?: string[];
}): PathFilter | undefined {
  const include = (sub.includePaths ?? []).map(parsePathSelector);
  const exclude = (sub.excludePaths ?? []).map(parsePathSelector);
  if (include.length === 0 && exclude.length === 0) return undefined;
  const included = (p: string) =>
    include.length === 0 || include.some(m => m(p));
  const excluded = (p: string) => exclude.some(m => m(p));
  return { matches: paths => paths.some(p => included(p) && !excluded(p)) };
}
