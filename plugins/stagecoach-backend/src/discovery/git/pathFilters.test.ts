import { parsePathSelector, pathSelectorProblem } from '../../util/pathSelectors';
import { pathFilter } from './pathFilters';

const matching = (selector: string, paths: string[]) => paths.filter(parsePathSelector(selector));

describe('path selectors', () => {
  const paths = [
    'README.md',
    '.github/workflows/ci.yaml',
    'apps/api/main.go',
    'apps/api/docs/README.md',
    'apps/api-gateway/main.go',
    'apps/web/src/index.ts',
    'docs/guide.md',
    'charts/api/values.yaml',
  ];

  it('a plain entry is a file or a directory and everything under it', () => {
    expect(matching('apps/api', paths)).toEqual(['apps/api/main.go', 'apps/api/docs/README.md']);
    expect(matching('apps/api/', paths)).toEqual(['apps/api/main.go', 'apps/api/docs/README.md']);
    expect(matching('./apps/api', paths)).toEqual(['apps/api/main.go', 'apps/api/docs/README.md']);
    expect(matching('/apps/api', paths)).toEqual(['apps/api/main.go', 'apps/api/docs/README.md']);
    expect(matching('README.md', paths)).toEqual(['README.md']);
    expect(matching('apps/ap', paths)).toEqual([]);
    expect(matching('.', paths)).toEqual(paths);
  });

  it('glob: matches the whole path; * stays in a directory, ** crosses them, dot files are not special', () => {
    expect(matching('glob:*.md', paths)).toEqual(['README.md']);
    expect(matching('glob:**/*.md', paths)).toEqual(['README.md', 'apps/api/docs/README.md', 'docs/guide.md']);
    expect(matching('glob:apps/*/main.go', paths)).toEqual(['apps/api/main.go', 'apps/api-gateway/main.go']);
    expect(matching('glob:apps/**', paths)).toEqual(paths.filter(p => p.startsWith('apps/')));
    expect(matching('glob:{charts,docs}/**', paths)).toEqual(['docs/guide.md', 'charts/api/values.yaml']);
    expect(matching('glob:*/*/*.y?ml', paths)).toEqual(['.github/workflows/ci.yaml', 'charts/api/values.yaml']);
    expect(matching('glob:apps/[!a]*/**', paths)).toEqual(['apps/web/src/index.ts']);
    expect(matching('glob:apps/[a-c]*/main.go', paths)).toEqual(['apps/api/main.go', 'apps/api-gateway/main.go']);
    // a leading "!" is a literal character, not a negation
    expect(matching('glob:!README.md', ['!README.md', 'README.md'])).toEqual(['!README.md']);
  });

  it('regex: and regexp: are found anywhere in the path', () => {
    expect(matching('regex:\\.go$', paths)).toEqual(['apps/api/main.go', 'apps/api-gateway/main.go']);
    expect(matching('regexp:^apps/(api|web)/', paths)).toEqual([
      'apps/api/main.go',
      'apps/api/docs/README.md',
      'apps/web/src/index.ts',
    ]);
    expect(matching('regex:api', paths)).toHaveLength(4);
  });

  it('names what is wrong with an invalid entry', () => {
    expect(pathSelectorProblem('apps/api')).toBeUndefined();
    expect(pathSelectorProblem('glob:**/*.{yaml,yml}')).toBeUndefined();
    expect(pathSelectorProblem('regex:^apps/')).toBeUndefined();
    expect(pathSelectorProblem('regex:(unclosed')).toMatch(/^is not a valid regular expression: /);
    expect(pathSelectorProblem('regexp:[z-a]')).toMatch(/^is not a valid regular expression: /);
    expect(pathSelectorProblem('glob:apps/[abc')).toBe('is not a valid glob: "[" at position 6 is not closed by "]"');
    expect(pathSelectorProblem('glob:apps/{a,b')).toBe('is not a valid glob: "{" is not closed by "}"');
    expect(pathSelectorProblem('glob:apps\\')).toBe('is not a valid glob: ends with an unfinished escape "\\"');
    expect(pathSelectorProblem('glob:')).toBe('is not a valid glob: needs a pattern after "glob:"');
    expect(pathSelectorProblem('')).toMatch(/must not be empty/);
    expect(() => parsePathSelector('regex:(')).toThrow(/^path selector "regex:\(" is not a valid regular expression/);
  });
});

describe('pathFilter', () => {
  it('is undefined without includePaths and excludePaths', () => {
    expect(pathFilter({})).toBeUndefined();
    expect(pathFilter({ includePaths: [], excludePaths: [] })).toBeUndefined();
  });

  it('a commit counts when one changed file is included and not excluded', () => {
    const f = pathFilter({ includePaths: ['apps/api', 'glob:charts/api/**'], excludePaths: ['regex:\\.md$'] })!;
    expect(f.matches(['apps/api/main.go'])).toBe(true);
    expect(f.matches(['apps/api/README.md'])).toBe(false);
    expect(f.matches(['apps/api/README.md', 'charts/api/values.yaml'])).toBe(true);
    expect(f.matches(['apps/web/index.ts', 'apps/api/README.md'])).toBe(false);
    expect(f.matches([])).toBe(false);
  });

  it('without includePaths every file is included', () => {
    const f = pathFilter({ excludePaths: ['docs', 'glob:**/*.md'] })!;
    expect(f.matches(['docs/guide.txt'])).toBe(false);
    expect(f.matches(['README.md', 'docs/x'])).toBe(false);
    expect(f.matches(['README.md', 'src/a.ts'])).toBe(true);
  });

  it('throws on an invalid entry', () => {
    expect(() => pathFilter({ includePaths: ['glob:[x'] })).toThrow(/path selector "glob:\[x" is not a valid glob/);
  });
});
