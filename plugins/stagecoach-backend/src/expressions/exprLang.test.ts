import { artifactRecord } from './artifactRecords';
import { evaluate, evaluateTemplate, ExpressionEnv, syntaxProblem } from './expressions';
import { LIMITS } from './limits';
import { valueFunctions } from './valueFunctions';

/** expr-lang's operators and built-ins, as Kargo's manifests use them. */
const env: ExpressionEnv = {
  values: {
    vars: {
      tags: ['v1.0.0', 'v1.2.0', 'latest', 'v2.0.0-rc.1'],
      images: [
        { name: 'api', tag: 'v1.2.0', size: 10 },
        { name: 'web', tag: 'latest', size: 20 },
        { name: 'jobs', tag: 'v0.9.0', size: 30 },
      ],
      labels: { team: 'payments', tier: 'backend' },
      empty: [],
      text: '  hello, world  ',
      nothing: null,
    },
  },
  functions: {},
};
const ev = (expression: string) => evaluate(expression, env);

describe('expr-lang operators', () => {
  it('in and not in, over lists and map keys', () => {
    expect(ev('"latest" in vars.tags')).toBe(true);
    expect(ev('"v9" not in vars.tags')).toBe(true);
    expect(ev('"team" in vars.labels')).toBe(true);
    expect(ev('"owner" in vars.labels')).toBe(false);
    expect(ev('2 in 1..3')).toBe(true);
  });

  it('matches (RE2), contains, startsWith, endsWith, and their not forms', () => {
    expect(ev('"v1.2.0" matches "^v[0-9]+\\\\.[0-9]+\\\\.[0-9]+$"')).toBe(true);
    expect(ev('"latest" not matches "^v"')).toBe(true);
    expect(ev('"release-1.2" contains "1.2"')).toBe(true);
    expect(ev('"release-1.2" startsWith "release-"')).toBe(true);
    expect(ev('"release-1.2" endsWith ".3"')).toBe(false);
    expect(ev('"abc" not startsWith "b"')).toBe(true);
  });

  it('?. and ?? for what may be missing', () => {
    expect(ev('vars.nothing?.name')).toBeNull();
    expect(ev('vars.nothing?.name ?? "none"')).toBe('none');
    expect(ev('vars.labels?.team')).toBe('payments');
    expect(ev('vars.missing ?? "default"')).toBe('default');
    expect(() => ev('vars.nothing.name')).toThrow(/cannot read "name" of nil/);
  });

  it('the pipe: x | f(y) is f(x, y)', () => {
    expect(ev('vars.tags | filter(# startsWith "v") | map(upper(#)) | join(",")')).toBe('V1.0.0,V1.2.0,V2.0.0-RC.1');
    expect(ev('"a-b-c" | split("-") | len()')).toBe(3);
    expect(ev('"Hello" | lower()')).toBe('hello');
  });

  it('map and array literals, slices and ranges', () => {
    expect(ev('{a: 1, "b": vars.labels.team, 3: [1, 2]}')).toEqual({ a: 1, b: 'payments', '3': [1, 2] });
    expect(ev('[1, "two", nil, true]')).toEqual([1, 'two', null, true]);
    expect(ev('vars.tags[1:3]')).toEqual(['v1.2.0', 'latest']);
    expect(ev('vars.tags[:1]')).toEqual(['v1.0.0']);
    expect(ev('"abcdef"[2:]')).toBe('cdef');
    expect(ev('1..5')).toEqual([1, 2, 3, 4, 5]);
    expect(ev('5..1')).toEqual([]);
  });

  it('arithmetic, comparison, logic and conditionals as expr-lang has them', () => {
    expect(ev('2 ** 10')).toBe(1024);
    expect(ev('2 ^ 3')).toBe(8);
    expect(ev('7 % 3 + 7 / 2')).toBe(4.5);
    expect(ev('not true or 1 < 2 and "a" < "b"')).toBe(true);
    expect(ev('len(vars.empty) > 0 ? "some" : "none"')).toBe('none');
    expect(ev('vars.nothing ?: "fallback"')).toBe('fallback');
    expect(ev('[1, 2] + [3]')).toEqual([1, 2, 3]);
    expect(ev('1_000 + 0x10')).toBe(1016);
  });

  it('predicates with #, #index, .field and { } closures', () => {
    expect(ev('filter(vars.images, .tag startsWith "v")')).toEqual([
      { name: 'api', tag: 'v1.2.0', size: 10 },
      { name: 'jobs', tag: 'v0.9.0', size: 30 },
    ]);
    expect(ev('map(vars.images, #.name)')).toEqual(['api', 'web', 'jobs']);
    expect(ev('map(vars.images, { .name + ":" + .tag })')).toEqual(['api:v1.2.0', 'web:latest', 'jobs:v0.9.0']);
    expect(ev('map(vars.tags, #index)')).toEqual([0, 1, 2, 3]);
    expect(ev('map(1..3, map(1..#, # * 10))')).toEqual([[10], [10, 20], [10, 20, 30]]);
    expect(ev('all(vars.images, .size > 5)')).toBe(true);
    expect(ev('any(vars.images, .name == "web")')).toBe(true);
    expect(ev('none(vars.images, .size > 100)')).toBe(true);
    expect(ev('one(vars.images, .size == 20)')).toBe(true);
    expect(ev('count(vars.images, .size >= 20)')).toBe(2);
    expect(ev('find(vars.images, .size > 15).name')).toBe('web');
    expect(ev('find(vars.images, .size > 99)')).toBeNull();
    expect(ev('findIndex(vars.images, .name == "jobs")')).toBe(2);
    expect(ev('findLast(vars.images, .size < 25).name')).toBe('web');
    expect(ev('sum(vars.images, .size)')).toBe(60);
    expect(ev('reduce(1..4, #acc + #, 0)')).toBe(10);
    expect(ev('groupBy(vars.images, .tag startsWith "v")')).toEqual({
      true: [{ name: 'api', tag: 'v1.2.0', size: 10 }, { name: 'jobs', tag: 'v0.9.0', size: 30 }],
      false: [{ name: 'web', tag: 'latest', size: 20 }],
    });
    expect(ev('map(sortBy(vars.images, .size, "desc"), .name)')).toEqual(['jobs', 'web', 'api']);
    expect(() => ev('filter(vars.images, .size)')).toThrow(/filter: the predicate must give true or false, got number/);
  });

  it('let', () => {
    expect(ev('let t = vars.labels.team; t + "-" + upper(t)')).toBe('payments-PAYMENTS');
    expect(ev('let a = 2; let b = a * 3; b + a')).toBe(8);
  });
});

describe('expr-lang built-ins', () => {
  it('strings', () => {
    expect(ev('len("héllo")')).toBe(5);
    expect(ev('len(vars.tags)')).toBe(4);
    expect(ev('len(vars.labels)')).toBe(2);
    expect(ev('lower("ABC") + upper("def")')).toBe('abcDEF');
    expect(ev('trim(vars.text)')).toBe('hello, world');
    expect(ev('trim("xxhixx", "x")')).toBe('hi');
    expect(ev('trimPrefix("v1.2.0", "v")')).toBe('1.2.0');
    expect(ev('trimSuffix("app.tar.gz", ".gz")')).toBe('app.tar');
    expect(ev('split("a,b,c", ",")')).toEqual(['a', 'b', 'c']);
    expect(ev('split("a,b,c", ",", 2)')).toEqual(['a', 'b,c']);
    expect(ev('join(["a", "b"], "-")')).toBe('a-b');
    expect(ev('join(["a", "b"])')).toBe('ab');
    expect(ev('replace("a.b.c", ".", "/")')).toBe('a/b/c');
    expect(ev('repeat("ab", 3)')).toBe('ababab');
    expect(ev('indexOf("hello", "l") + lastIndexOf("hello", "l")')).toBe(5);
    expect(ev('hasPrefix("v1", "v") && hasSuffix("v1", "1")')).toBe(true);
  });

  it('lists and maps', () => {
    expect(ev('first(vars.tags)')).toBe('v1.0.0');
    expect(ev('last(vars.tags)')).toBe('v2.0.0-rc.1');
    expect(ev('first(vars.empty)')).toBeNull();
    expect(ev('keys(vars.labels)')).toEqual(['team', 'tier']);
    expect(ev('values(vars.labels)')).toEqual(['payments', 'backend']);
    expect(ev('sort([3, 1, 2])')).toEqual([1, 2, 3]);
    expect(ev('sort(["b", "a"], "desc")')).toEqual(['b', 'a']);
    expect(ev('reverse([1, 2])')).toEqual([2, 1]);
    expect(ev('uniq([1, 1, 2])')).toEqual([1, 2]);
    expect(ev('take([1, 2, 3], 2)')).toEqual([1, 2]);
    expect(ev('concat([1], [2, 3])')).toEqual([1, 2, 3]);
    expect(ev('flatten([1, [2, [3]]])')).toEqual([1, 2, 3]);
    expect(ev('toPairs({a: 1})')).toEqual([['a', 1]]);
    expect(ev('fromPairs([["a", 1]])')).toEqual({ a: 1 });
    expect(ev('get(vars.labels, "team")')).toBe('payments');
    expect(ev('get(vars.tags, 99)')).toBeNull();
  });

  it('conversions and JSON', () => {
    expect(ev('toJSON({a: [1]})')).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(ev('fromJSON("{\\"a\\": [1, 2]}").a[1]')).toBe(2);
    expect(ev('int("42") + int(3.9)')).toBe(45);
    expect(ev('float("1.5") * 2')).toBe(3);
    expect(ev('string(42) + string(true)')).toBe('42true');
    expect(ev('toBase64("hi")')).toBe('aGk=');
    expect(ev('fromBase64("aGk=")')).toBe('hi');
    expect(ev('type([])')).toBe('list');
    expect(() => ev('int("4x")')).toThrow(/int: cannot make a whole number of string "4x"/);
  });

  it('numbers', () => {
    expect(ev('abs(-3)')).toBe(3);
    expect(ev('max(1, 5, 3)')).toBe(5);
    expect(ev('min([4, 2, 8])')).toBe(2);
    expect(ev('ceil(1.2) + floor(1.8) + round(1.5)')).toBe(5);
    expect(ev('mean([1, 2, 3])')).toBe(2);
    expect(ev('median([1, 9, 2])')).toBe(2);
  });

  it('times and durations', () => {
    expect(ev('date("2024-05-01T12:00:00Z") + duration("1h30m")')).toBe('2024-05-01T13:30:00.000Z');
    expect(ev('date("2024-05-02") - date("2024-05-01")')).toBe('24h0m0s');
    expect(ev('date("2024-05-02") > date("2024-05-01")')).toBe(true);
    expect(ev('duration("90s") < duration("2m")')).toBe(true);
    expect(ev('now() > date("2020-01-01")')).toBe(true);
    expect(evaluateTemplate('built ${{ date("2024-05-01") }}', env)).toBe('built 2024-05-01T00:00:00.000Z');
    expect(() => ev('date("May 1st")')).toThrow(/date: "May 1st" is not a date as RFC 3339 writes it/);
    expect(() => ev('duration("soon")')).toThrow(/duration: "soon" is not a duration/);
  });
});

describe("Kargo's own functions", () => {
  const kargo: ExpressionEnv = { values: { v: { a: [1, 'two'], b: { c: true } } }, functions: valueFunctions };

  it('quote, unsafeQuote, asJSON and asYAML give text', () => {
    expect(evaluate('quote(42)', kargo)).toBe('42');
    expect(evaluate('unsafeQuote(true)', kargo)).toBe('true');
    expect(evaluate('asJSON(v)', kargo)).toBe('{"a":[1,"two"],"b":{"c":true}}');
    expect(evaluate('asYAML(v)', kargo)).toBe('a:\n  - 1\n  - two\nb:\n  c: true\n');
  });
});

describe('the sandbox bounds what an expression may do', () => {
  it('refuses huge ranges, repeats, joins and concatenations', () => {
    expect(() => ev('1..100000000')).toThrow(/the range 1\.\.100000000 would have 100000000 elements; the most is 100000/);
    expect(() => ev('repeat("x", 1000000000)')).toThrow(/repeat\(\.\.\.\) would be 1000000000 characters long/);
    expect(() => ev('map(1..100000, repeat("x", 1000))')).toThrow(/builds more than/);
    expect(() => ev('let s = repeat("x", 1000000); s + s')).toThrow(/"\+" would be 2000000 characters long/);
    expect(() => ev('join(map(1..1000, repeat("ab", 1000)), "")')).toThrow(/join\(\.\.\.\) would be 2000000 characters long/);
  });

  it('stops an evaluation that takes too many steps', () => {
    expect(() => ev('count(1..100000, all(1..100000, # > 0))')).toThrow(
      `the expression takes more than ${LIMITS.steps} evaluation steps`,
    );
  });

  it('runs user patterns on RE2: catastrophic backtracking cannot stall, long patterns are refused', () => {
    const started = Date.now();
    expect(ev(`"${'a'.repeat(5000)}!" matches "^(a+)+$"`)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(() => ev(`"a" matches "${'a'.repeat(1001)}"`)).toThrow(/a pattern may have at most 1000/);
    expect(() => ev('"aa" matches "(a)\\\\1"')).toThrow(/no backreferences/);
  });

  it('refuses prototypes however they are reached', () => {
    for (const expression of [
      'vars.__proto__',
      'vars["proto" + "type"]',
      'map(vars.images, #["constructor"])',
      'let c = "constructor"; vars.tags[c]',
      'vars.labels?.constructor',
    ]) {
      expect(() => ev(expression)).toThrow(/is not accessible/);
    }
    expect(() => ev('fromPairs([["__proto__", 1]])')).toThrow(/"__proto__" cannot be a key/);
  });

  it('refuses over-long and over-nested expressions at parse time', () => {
    expect(syntaxProblem(`${'1 + '.repeat(3000)}1`)).toMatch(/an expression may have at most 10000/);
    expect(syntaxProblem(`${'('.repeat(200)}1${')'.repeat(200)}`)).toMatch(/Nested more than 100 levels deep/);
  });
});

describe('syntaxProblem', () => {
  it('accepts expr-lang, and says where what does not parse is', () => {
    for (const ok of [
      'filter(xs, .tag startsWith "v") | map(#.name)',
      'all(xs, { # > 1 })',
      '{a: 1, "b": [1, 2]}',
      'x not in [1, 2] and y matches "^a"',
      'let a = 1; a + 1',
      'a?.b ?? c',
    ]) {
      expect(syntaxProblem(ok)).toBeUndefined();
    }
    expect(syntaxProblem('imageFrom("x").tag ==')).toBe('cannot parse "imageFrom("x").tag ==": Expected expression after == at character 21');
    expect(syntaxProblem('#.name')).toMatch(/# can only be used inside a predicate, such as filter\(list, # > 1\)/);
    expect(syntaxProblem('.name == "x"')).toMatch(/\.name can only be used inside a predicate/);
    expect(syntaxProblem('[1, 2')).toMatch(/Expected "," or "\]" in a list at character 5/);
  });

  it('names an unknown function when the known ones are given', () => {
    expect(syntaxProblem('comitFrom("x").ID', new Set(['commitFrom', 'quote']))).toMatch(
      /^in "comitFrom\("x"\)\.ID": unknown function "comitFrom" \(known: commitFrom, quote, and the built-ins abs, /,
    );
    expect(syntaxProblem('len(commitFrom("x").ID)', new Set(['commitFrom']))).toBeUndefined();
  });
});

describe('artifact records', () => {
  const commit = artifactRecord({ repoURL: 'https://g/x', id: 'abc' }, 'commitFrom("https://g/x")', {
    repoURL: 'RepoURL',
    id: 'ID',
    tag: 'Tag',
  });
  const artifactEnv: ExpressionEnv = { values: { commit }, functions: {} };

  it('read by either spelling; a declared field the artifact lacks is "", any other an error naming the fields', () => {
    expect(evaluate('commit.ID + commit.id + commit.RepoURL', artifactEnv)).toBe('abcabchttps://g/x');
    expect(evaluate('commit.Tag', artifactEnv)).toBe('');
    expect(evaluate('"Tag" in commit', artifactEnv)).toBe(true);
    expect(() => evaluate('commit.Sha', artifactEnv)).toThrow(
      'in "commit.Sha": commitFrom("https://g/x") has no field "Sha" (its fields: RepoURL, ID, Tag; or as Stagecoach writes them: repoURL, id, tag)',
    );
    expect(evaluate('commit', artifactEnv)).toEqual({ repoURL: 'https://g/x', id: 'abc' });
  });
});
