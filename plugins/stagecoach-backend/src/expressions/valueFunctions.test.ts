import { evaluate, evaluateTemplate, ExpressionEnv, syntaxProblem } from './expressions';
import { valueFunctions } from './valueFunctions';

const env: ExpressionEnv = { values: { vars: { current: 'v1.4.2', repo: 'https://git.example.com/app.git' } }, functions: valueFunctions };

describe('semverParse', () => {
  it("has Kargo's methods: the parts, String() and Original(), and the next versions", () => {
    const rows: [string, unknown][] = [
      ['semverParse("v1.2.3-rc.1+b5").Major()', 1],
      ['semverParse("v1.2.3-rc.1+b5").Minor()', 2],
      ['semverParse("v1.2.3-rc.1+b5").Patch()', 3],
      ['semverParse("v1.2.3-rc.1+b5").Prerelease()', 'rc.1'],
      ['semverParse("v1.2.3-rc.1+b5").Metadata()', 'b5'],
      ['semverParse("v1.2.3-rc.1+b5").String()', '1.2.3-rc.1+b5'],
      ['semverParse("v1.2.3-rc.1+b5").Original()', 'v1.2.3-rc.1+b5'],
      ['semverParse(vars.current).IncMajor().String()', '2.0.0'],
      ['semverParse(vars.current).IncMinor().String()', '1.5.0'],
      ['semverParse(vars.current).IncPatch().String()', '1.4.3'],
      // a prerelease's next patch is its release; the "v" stays in Original()
      ['semverParse("v1.2.3-rc.1").IncPatch().Original()', 'v1.2.3'],
      ['semverParse("1.2.3+b5").IncMinor().Original()', '1.3.0'],
      ['semverParse("1.2.3").IncMinor().IncMinor().Minor()', 4],
      ['semverParse("2.0.0").Major() > semverParse("1.9.9").Major()', true],
      // the fields as before
      ['semverParse("v1.2.3-rc.1+b5").minor', 2],
      ['semverParse("v1.2.3").original', 'v1.2.3'],
    ];
    for (const [expression, expected] of rows) expect([expression, evaluate(expression, env)]).toEqual([expression, expected]);
    // Kargo's documented use: a Chart.yaml version bumped
    expect(evaluateTemplate("${{ semverParse('0.7.1').IncMinor().String() }}", env)).toBe('0.8.0');
    // a version with methods is written out as its fields
    expect(evaluateTemplate('${{ semverParse("1.2.3") }}', env)).toEqual({ major: 1, minor: 2, patch: 3, prerelease: '', metadata: '', original: '1.2.3' });
  });

  it('calls no other method: another name does not parse, and only a version has methods', () => {
    expect(syntaxProblem('vars.repo.toString()')).toMatch(/only named functions can be called/);
    expect(syntaxProblem('semverParse("1.0.0").constructor()')).toMatch(/only named functions can be called/);
    expect(syntaxProblem('semverParse("1.0.0")?.Major()')).toMatch(/only named functions can be called/);
    expect(syntaxProblem('semverParse(vars.current).IncMinor().String()')).toBeUndefined();
    expect(() => evaluate('vars.repo.String()', env)).toThrow('vars.repo.String(): a string has no methods (only the version semverParse() returns has)');
    expect(() => evaluate('{"Major": 1}.Major()', env)).toThrow(/a map has no methods/);
    expect(() => evaluate('semverParse("1.0.0").Major(1) + 1', env)).not.toThrow();
  });
});
