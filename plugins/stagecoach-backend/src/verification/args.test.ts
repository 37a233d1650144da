import { analysisTemplateSpecSchema, stageVerificationSchema } from './analysisTemplate';
import { resolveAnalysis, VerificationConfigError } from './args';
import { builtinSubscriptionKinds } from '../discovery/kinds';

const env = { project: 'shop', stage: 'prod', vars: { region: 'eu-west-1', threshold: 0.99 } };

function resolve(spec: unknown, verification?: unknown) {
  return resolveAnalysis(
    ['checks'],
    analysisTemplateSpecSchema.parse(spec),
    verification ? stageVerificationSchema.parse(verification) : undefined,
    env,
  );
}

function failure(spec: unknown, verification?: unknown): string {
  try {
    resolve(spec, verification);
  } catch (e) {
    expect(e).toBeInstanceOf(VerificationConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a VerificationConfigError');
}

const template = {
  args: [{ name: 'service' }, { name: 'threshold', value: '0.95' }, { name: 'count', value: '3' }],
  metrics: [
    {
      name: 'success-rate',
      interval: '1m',
      count: '{{args.count}}',
      successCondition: 'result[0] >= {{ args.threshold }}',
      provider: {
        prometheus: {
          address: 'http://prometheus:9090',
          query: 'sum(rate(ok{service="{{args.service}}"}[5m])) / sum(rate(all{service="{{args.service}}"}[5m]))',
        },
      },
    },
  ],
};

describe('resolveAnalysis', () => {
  it('evaluates stage args, falls back to template defaults, and substitutes {{args.x}} everywhere', () => {
    const a = resolve(template, {
      analysisTemplates: [{ name: 'checks' }],
      args: [
        { name: 'service', value: '${{ ctx.project }}-api-${{ vars.region }}' },
        { name: 'threshold', value: '${{ vars.threshold }}' },
        { name: 'unused', value: 'ignored, as Kargo ignores it' },
      ],
    });
    expect(a.templates).toEqual(['checks']);
    expect(a.args).toEqual({ service: 'shop-api-eu-west-1', threshold: '0.99', count: '3' });
    expect(a.metrics).toEqual([
      {
        name: 'success-rate',
        interval: '1m',
        count: 3,
        failureLimit: 0,
        inconclusiveLimit: 0,
        consecutiveErrorLimit: 4,
        successCondition: 'result[0] >= 0.99',
        provider: {
          prometheus: {
            address: 'http://prometheus:9090',
            query: 'sum(rate(ok{service="shop-api-eu-west-1"}[5m])) / sum(rate(all{service="shop-api-eu-west-1"}[5m]))',
          },
        },
      },
    ]);
  });

  it('applies Rollouts defaults and dryRun rules', () => {
    const a = resolve({
      metrics: [
        { name: 'health', provider: { web: { url: 'http://x/health' } } },
        { name: 'latency-p99', provider: { web: { url: 'http://x/latency' } } },
        { name: 'smoke', dryRun: true, provider: { job: { spec: { template: { spec: { containers: [{ name: 'smoke', image: 'curlimages/curl' }], restartPolicy: 'Never' } } } } } },
      ],
      dryRun: [{ metricName: 'latency-.*' }],
    });
    expect(a.metrics.map(m => [m.name, m.count, m.failureLimit, m.inconclusiveLimit, m.consecutiveErrorLimit, !!m.dryRun])).toEqual([
      ['health', 1, 0, 0, 4, false],
      ['latency-p99', 1, 0, 0, 4, true],
      ['smoke', 1, 0, 0, 4, true],
    ]);
  });

  it('names an arg that has no value', () => {
    expect(failure(template)).toBe(
      "argument service has no value: the AnalysisTemplate declares it without a default, so give it in the Stage's spec.verification.args",
    );
  });

  it('names the metric and field of an undeclared {{args.x}}', () => {
    expect(
      failure({ metrics: [{ name: 'health', provider: { web: { url: 'http://x', headers: [{ key: 'X-Env', value: '{{args.env}}' }] } } }] }),
    ).toBe('metric health: provider.web.headers[0].value uses {{args.env}}, but no AnalysisTemplate of the stage declares an argument env (declared: none)');
  });

  it('names the metric and field of a count, limit, duration or provider value that is wrong once substituted', () => {
    const spec = (metric: Record<string, unknown>) => ({
      args: [{ name: 'x', value: 'abc' }],
      metrics: [{ name: 'm', provider: { web: { url: 'http://x' } }, ...metric }],
    });
    expect(failure(spec({ interval: '1m', count: '{{args.x}}' }))).toBe('metric m: count must be a whole number, 1 or more, got "abc"');
    expect(failure(spec({ failureLimit: '{{args.x}}' }))).toBe('metric m: failureLimit must be a whole number, 0 or more, got "abc"');
    expect(failure(spec({ initialDelay: '{{args.x}}' }))).toBe(
      'metric m: initialDelay "abc" is not a duration such as "30s", "5m" or "1h30m"',
    );
    expect(failure(spec({ provider: { web: { url: 'http://x', timeoutSeconds: '{{args.x}}' } } }))).toBe(
      'metric m: provider.web.timeoutSeconds must be a whole number, got "abc"',
    );
    expect(failure(spec({ provider: { web: { url: '{{args.x}}' } } }))).toBe(
      'metric m: provider.web.url must be an absolute http:// or https:// URL',
    );
    expect(
      failure({
        args: [{ name: 'limit', value: '0.5 +' }],
        metrics: [{ name: 'm', successCondition: 'result < {{args.limit}}', provider: { web: { url: 'http://x' } } }],
      }),
    ).toMatch(/^metric m: successCondition cannot parse "result < 0.5 \+"/);
  });

  it('reports an arg expression that fails, naming the arg', () => {
    expect(failure(template, { args: [{ name: 'service', value: '${{ vars.missing.name }}' }] })).toBe(
      'spec.verification.args[0] (service): in "vars.missing.name": cannot read "name" of undefined (vars.missing.name)',
    );
  });

  it("reads the verified freight's artifacts by Kargo's field names and Stagecoach's; a missing field is an error naming the arg", () => {
    const freight = {
      commits: [{ repoURL: 'https://git.example.com/app.git', id: 'c0ffee'.padEnd(40, '0'), tag: 'v1.2.0' }],
      images: [{ repoURL: 'ghcr.io/acme/app', tag: '1.2.0', digest: `sha256:${'b'.repeat(64)}` }],
      charts: [],
    };
    const functions = builtinSubscriptionKinds.expressionFunctions(freight, 'freight brave-otter', { warehouse: 'app' });
    const withArgs = (args: { name: string; value: string }[]) =>
      resolveAnalysis(
        ['checks'],
        analysisTemplateSpecSchema.parse(template),
        stageVerificationSchema.parse({ analysisTemplates: [{ name: 'checks' }], args }),
        { ...env, functions },
      );
    const a = withArgs([
      { name: 'service', value: '${{ imageFrom("ghcr.io/acme/app").Tag }}-${{ commitFrom("https://git.example.com/app.git", warehouse("app")).ID[:7] }}' },
      { name: 'count', value: '${{ len(imageFrom("ghcr.io/acme/app").digest) }}' },
    ]);
    expect(a.args).toMatchObject({ service: '1.2.0-c0ffee0', count: '71' });
    expect(() => withArgs([{ name: 'service', value: '${{ imageFrom("ghcr.io/acme/app").Annotations }}' }])).toThrow(
      'spec.verification.args[0] (service): in "imageFrom("ghcr.io/acme/app").Annotations": imageFrom("ghcr.io/acme/app") has no field "Annotations" (its fields: RepoURL, Tag, Digest, CreatedAt; or as Stagecoach writes them: repoURL, tag, digest, createdAt)',
    );
  });
});
