import { globMatcher } from '../../util/globs';

export { globBase, globMatcher } from '../../util/globs';

/** Glob and ignore-rule matching for the file steps (delete's globs, copy's ignore rules). */

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
