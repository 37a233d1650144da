import { describeIssue } from '../manifests/describeIssue';
import {
  AnalysisTemplateSpec,
  analysisTemplateSpecSchema,
  mergeTemplates,
  stageVerificationSchema,
} from './analysisTemplate';

function problems(spec: unknown): string[] {
  const r = analysisTemplateSpecSchema.safeParse(spec);
  return r.success ? [] : r.error.issues.map(i => `${i.path.join('.')}: ${describeIssue(i)}`);
}

const web = { web: { url: 'https://status.example.com/health', jsonPath: '{$.ok}' } };
const prom = { prometheus: { address: 'http://prometheus:9090', query: 'sum(rate(errors[5m]))' } };

describe('AnalysisTemplate spec', () => {
  it('accepts a Rollouts template with web, prometheus and job metrics', () => {
    expect(
      problems({
        args: [{ name: 'service' }, { name: 'threshold', value: '0.95' }],
        metrics: [
          { name: 'health', provider: web, successCondition: 'result == true' },
          {
            name: 'success-rate',
            interval: '1m',
            count: 5,
            failureLimit: 1,
            initialDelay: '30s',
            successCondition: 'result[0] >= {{args.threshold}}',
            provider: { prometheus: { ...prom.prometheus, query: 'rate(ok{service="{{args.service}}"}[5m])' } },
          },
          { name: 'smoke', provider: { job: { spec: { template: { spec: { containers: [] } } } } } },
        ],
        dryRun: [{ metricName: 'smoke' }],
        measurementRetention: [{ metricName: '.*', limit: 5 }],
      }),
    ).toEqual([]);
  });

  it('accepts {{args.x}} for counts, limits and provider fields', () => {
    expect(
      problems({
        metrics: [
          {
            name: 'm',
            interval: '{{args.interval}}',
            count: '{{args.count}}',
            failureLimit: '{{ args.failures }}',
            provider: { web: { url: '{{args.url}}', timeoutSeconds: '{{args.timeout}}' } },
          },
        ],
      }),
    ).toEqual([]);
  });

  it('caps a check at 60 seconds: longer belongs in a job', () => {
    expect(
      problems({
        metrics: [
          { name: 'slow-web', provider: { web: { url: 'https://status.example.com/health', timeoutSeconds: 300 } } },
          { name: 'slow-query', provider: { prometheus: { address: 'http://prometheus:9090', query: 'up', timeout: '2m' } } },
        ],
      }),
    ).toEqual([
      'metrics.0.provider.web.timeoutSeconds: must be at most 60 seconds, got 300: a longer check belongs in a job metric',
      'metrics.1.provider.prometheus.timeout: must be at most 60 seconds, got 120: a longer check belongs in a job metric',
    ]);
  });

  it('refuses valueFrom and says to use a stage arg', () => {
    expect(problems({ args: [{ name: 'token', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], metrics: [{ name: 'm', provider: web }] })).toEqual([
      'args.0.valueFrom: is not supported by Stagecoach (no secretKeyRef or fieldRef): declare the argument without a value here and give it in the Stage, under spec.verification.args; credentials for web and prometheus checks go in app-config, stagecoach.verification.credentials',
    ]);
  });

  it('names a Rollouts provider Stagecoach does not run', () => {
    expect(problems({ metrics: [{ name: 'dd', provider: { datadog: { query: 'x' } } }] })).toEqual([
      'metrics.0.provider.datadog: the datadog provider is not supported: Stagecoach runs web, prometheus and job metrics',
    ]);
    expect(problems({ metrics: [{ name: 'x', provider: { newRelic: {} } }] })[0]).toContain('the newRelic provider is not supported');
    expect(problems({ metrics: [{ name: 'x', provider: { foo: {} } }] })[0]).toContain('unknown metric provider "foo"');
  });

  it('wants exactly one provider', () => {
    expect(problems({ metrics: [{ name: 'x', provider: {} }] })).toEqual(['metrics.0.provider: needs one provider: web, prometheus or job']);
    expect(problems({ metrics: [{ name: 'x', provider: { ...web, ...prom } }] })).toEqual([
      'metrics.0.provider: has web and prometheus: a metric has exactly one provider',
    ]);
  });

  it('says count is required with interval', () => {
    expect(problems({ metrics: [{ name: 'm', interval: '30s', provider: web }] })[0]).toMatch(
      /^metrics\.0\.count: is required with interval: in Argo Rollouts a metric with interval and no count measures until the analysis is stopped/,
    );
    expect(problems({ metrics: [{ name: 'm', count: 3, provider: web }] })).toEqual([
      'metrics.0.interval: is required when count is more than 1 (count is 3): the time between measurements, such as 30s',
    ]);
  });

  it('checks durations, numbers, conditions and provider fields', () => {
    expect(
      problems({
        metrics: [
          {
            name: 'm',
            interval: '30 seconds',
            count: 0,
            failureLimit: -1,
            successCondition: 'result >',
            provider: { web: { url: 'ftp://x', method: 'DELETE', headers: [{ key: 'Authorization', value: 'Bearer s3cret' }], extra: 1 } },
          },
        ],
      }),
    ).toEqual([
      'metrics.0.interval: "30 seconds" is not a duration such as "30s", "5m" or "1h30m"',
      'metrics.0.count: must be a whole number of measurements, 1 or more, got 0',
      'metrics.0.successCondition: cannot parse "result >": Expected expression after > at character 8',
      'metrics.0.failureLimit: must be a whole number, 0 or more, got -1',
      'metrics.0.provider.web.url: must be an absolute http:// or https:// URL',
      'metrics.0.provider.web.method: must be GET (the default), POST or PUT',
      'metrics.0.provider.web: unknown field "extra"',
    ]);
  });

  it('refuses a body on a GET and a prometheus metric without query', () => {
    expect(problems({ metrics: [{ name: 'm', provider: { web: { url: 'http://x', body: '{}' } } }] })).toEqual([
      'metrics.0.provider.web.method: a request with body must use method POST or PUT',
    ]);
    expect(problems({ metrics: [{ name: 'm', provider: { prometheus: { address: 'http://p:9090' } } }] })).toEqual([
      'metrics.0.provider.prometheus.query: is required',
    ]);
  });

  it('requires a Job spec for a job metric', () => {
    expect(problems({ metrics: [{ name: 'm', provider: { job: { metadata: {} } } }] })).toEqual([
      'metrics.0.provider.job.spec: must be a Kubernetes Job spec (an object with template: ...)',
    ]);
  });

  it('refuses duplicate metric names and nested templates', () => {
    expect(problems({ metrics: [{ name: 'm', provider: web }, { name: 'm', provider: web }], templates: [{ templateName: 'x' }] })).toEqual([
      'templates: is not supported by Stagecoach: list every AnalysisTemplate in the Stage, under spec.verification.analysisTemplates',
      'metrics.1.name: "m" is also the name of metrics[0]: metric names must be unique',
    ]);
  });
});

describe("a Stage's spec.verification", () => {
  it('takes Kargo fields and defaults kind to AnalysisTemplate', () => {
    const v = stageVerificationSchema.parse({
      analysisTemplates: [{ name: 'smoke' }, { name: 'shared', kind: 'ClusterAnalysisTemplate' }],
      analysisRunMetadata: { labels: { team: 'a' }, annotations: { note: 'b' } },
      args: [{ name: 'service', value: '${{ ctx.stage }}-api' }, { name: 'count', value: 3 }],
    });
    expect(v.analysisTemplates).toEqual([
      { name: 'smoke', kind: 'AnalysisTemplate' },
      { name: 'shared', kind: 'ClusterAnalysisTemplate' },
    ]);
    expect(v.args).toEqual([
      { name: 'service', value: '${{ ctx.stage }}-api' },
      { name: 'count', value: '3' },
    ]);
  });

  it('checks expressions in arg values and duplicate args', () => {
    const r = stageVerificationSchema.safeParse({
      analysisTemplates: [{ name: 'a', kind: 'Template' }],
      args: [{ name: 'x', value: '${{ ctx.stage + }}' }, { name: 'x', value: 'y' }],
    });
    expect(r.success).toBe(false);
    expect(r.success ? [] : r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'analysisTemplates.0.kind: must be AnalysisTemplate (the default) or ClusterAnalysisTemplate',
      expect.stringMatching(/^args\.0\.value: cannot parse "ctx\.stage \+"/),
    ]);
  });
});

describe('mergeTemplates', () => {
  const spec = (s: unknown) => analysisTemplateSpecSchema.parse(s) as AnalysisTemplateSpec;

  it('puts the metrics side by side and merges args and dry runs', () => {
    const merged = mergeTemplates([
      { name: 'http', spec: spec({ args: [{ name: 'service' }, { name: 'env', value: 'prod' }], metrics: [{ name: 'health', provider: web }] }) },
      {
        name: 'prom',
        spec: spec({
          args: [{ name: 'service', value: 'api' }, { name: 'env', value: 'prod' }],
          metrics: [{ name: 'errors', provider: prom }],
          dryRun: [{ metricName: 'errors' }],
        }),
      },
    ]);
    expect(merged).toEqual({
      ok: true,
      spec: {
        metrics: [expect.objectContaining({ name: 'health' }), expect.objectContaining({ name: 'errors' })],
        args: [{ name: 'service', value: 'api' }, { name: 'env', value: 'prod' }],
        dryRun: [{ metricName: 'errors' }],
      },
    });
  });

  it('names the template and path of a duplicate metric or a conflicting arg, without the values', () => {
    const merged = mergeTemplates([
      { name: 'a', spec: spec({ args: [{ name: 'token', value: 's3cret-one' }], metrics: [{ name: 'health', provider: web }] }) },
      { name: 'b', spec: spec({ args: [{ name: 'token', value: 's3cret-two' }], metrics: [{ name: 'health', provider: web }] }) },
    ]);
    expect(merged).toEqual({
      ok: false,
      problems: [
        {
          template: 'b',
          path: ['spec', 'metrics', 0, 'name'],
          message:
            'metric "health" is also defined in AnalysisTemplate a: metric names must be unique across the templates a stage verifies with',
        },
        {
          template: 'b',
          path: ['spec', 'args', 0, 'value'],
          message:
            "argument \"token\" has a different default here than in AnalysisTemplate a: give it one default, or none and set it in the Stage's spec.verification.args",
        },
      ],
    });
    expect(JSON.stringify(merged)).not.toContain('s3cret');
  });

  it('says when a dryRun rule matches no metric', () => {
    const merged = mergeTemplates([{ name: 'a', spec: spec({ metrics: [{ name: 'health', provider: web }], dryRun: [{ metricName: 'latency' }] }) }]);
    expect(merged).toEqual({
      ok: false,
      problems: [{ template: 'a', path: ['spec', 'dryRun', 0, 'metricName'], message: '"latency" matches no metric (metrics: health)' }],
    });
  });
});
