import type { WarehouseSpec } from '../manifests/schemas';
import { syntaxProblem } from '../expressions/expressions';
import { decideFreightCreation as decide } from './freightCreation';
import type { FreightArtifacts } from '../store/freightIdentity';
import { builtinSubscriptionKinds } from './kinds';

const artifacts: FreightArtifacts = {
  commits: [{ repoURL: 'https://git.example.com/acme/app.git', id: 'a'.repeat(40), tag: 'v1.2.0' }],
  images: [{ repoURL: 'ghcr.io/acme/app', tag: '1.2.0', digest: `sha256:${'b'.repeat(64)}` }],
  charts: [{ repoURL: 'oci://ghcr.io/acme/charts/app', version: '1.2.0' }],
};

const spec = (over: Partial<WarehouseSpec>): WarehouseSpec => ({
  interval: '5m',
  freightCreationPolicy: 'Automatic',
  subscriptions: [],
  ...over,
});
const criteria = (expression: string) => spec({ freightCreationCriteria: { expression } });
const decideFreightCreation = (s: WarehouseSpec, a: FreightArtifacts) =>
  decide(s, builtinSubscriptionKinds.expressionFunctions(a, 'the candidate freight'));

describe('decideFreightCreation', () => {
  it('Automatic without criteria creates; Manual never does', () => {
    expect(decideFreightCreation(spec({}), artifacts)).toEqual({ create: true });
    expect(decideFreightCreation(spec({ freightCreationPolicy: 'Manual' }), artifacts)).toEqual({
      create: false,
      reason: 'freightCreationPolicy is Manual',
    });
  });

  it('evaluates the criteria over the candidate freight, in Stagecoach or Kargo spelling, bare or in ${{ }}', () => {
    for (const expression of [
      'imageFrom("ghcr.io/acme/app").tag == chartFrom("oci://ghcr.io/acme/charts/app").version',
      "imageFrom('ghcr.io/acme/app').Tag == chartFrom('oci://ghcr.io/acme/charts/app').Version",
      '${{ commitFrom("https://git.example.com/acme/app").ID != "" && imageFrom("ghcr.io/acme/app").Digest != "" }}',
      'commitFrom("https://git.example.com/acme/app.git").tag == "v" + imageFrom("ghcr.io/acme/app").tag',
    ]) {
      expect(decideFreightCreation(criteria(expression), artifacts)).toEqual({ create: true });
    }
    expect(decideFreightCreation(criteria('imageFrom("ghcr.io/acme/app").tag == "2.0.0"'), artifacts)).toEqual({
      create: false,
      reason: 'spec.freightCreationCriteria.expression is false',
    });
  });

  it('an expression that fails or is not true or false creates nothing and says why', () => {
    expect(decideFreightCreation(criteria('imageFrom("docker.io/nginx").tag == "1"'), artifacts)).toMatchObject({
      create: false,
      error:
        'spec.freightCreationCriteria.expression failed, so no freight was created: in "imageFrom("docker.io/nginx").tag == "1"": the candidate freight has no image from docker.io/nginx',
    });
    expect(decideFreightCreation(criteria('imageFrom("ghcr.io/acme/app").Version == "1"'), artifacts)).toMatchObject({
      create: false,
      error:
        'spec.freightCreationCriteria.expression failed, so no freight was created: in "imageFrom("ghcr.io/acme/app").Version == "1"": imageFrom("ghcr.io/acme/app") has no field "Version" (its fields: RepoURL, Tag, Digest, CreatedAt; or as Stagecoach writes them: repoURL, tag, digest, createdAt)',
    });
    expect(decideFreightCreation(criteria('warehouse("x")'), artifacts)).toMatchObject({
      create: false,
      error: expect.stringMatching(/unknown function "warehouse" \(known: artifactFrom, chartFrom, commitFrom, imageFrom; built-in: abs, all, any, /),
    });
    expect(decideFreightCreation(criteria('imageFrom("ghcr.io/acme/app")'), artifacts)).toMatchObject({
      create: false,
      error: expect.stringMatching(/must be true or false, but it is \{"repoURL":"ghcr.io\/acme\/app"/),
    });
    expect(decideFreightCreation(criteria('vars.x'), artifacts)).toMatchObject({
      create: false,
      error: expect.stringMatching(/unknown name "vars"/),
    });
  });
});

describe('syntaxProblem', () => {
  it('accepts what the evaluator supports', () => {
    expect(syntaxProblem('a.b[0] == "x" && !c || d ? [1, -2] : e ?? f(g, "h") and not i')).toBeUndefined();
    expect(syntaxProblem('\n  imageFrom("x").tag\n  == "1"\n')).toBeUndefined();
  });

  it('names what cannot be evaluated', () => {
    expect(syntaxProblem('a ==')).toMatch(/^cannot parse "a ==": Expected expression after == at character 4/);
    expect(syntaxProblem('a b')).toBe('cannot parse "a b": Unexpected "b": an expression must be a single expression at character 2');
    expect(syntaxProblem('  ')).toBe('must not be empty');
    expect(syntaxProblem('a | b')).toBe('cannot parse "a | b": Expected a function call after "|" at character 4');
    expect(syntaxProblem('~a')).toBe('cannot parse "~a": Unexpected "~" at character 0');
    expect(syntaxProblem('a.b()')).toBe('cannot parse "a.b()": only named functions can be called at character 2');
  });
});
