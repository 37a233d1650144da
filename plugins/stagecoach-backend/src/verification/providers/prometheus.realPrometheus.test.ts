import type { KubeClusters } from '../../integrations/kubernetes/types';
import { LOOPBACK_ALLOWED, loopbackServer, LoopbackServer } from '../../__testUtils__/loopbackHttp';
import { startPrometheus, TestPrometheus } from '../../__testUtils__/prometheus';
import { silentLogger } from '../../util/types';
import { advanceAnalysis } from '../analysisRun';
import type { MeasureContext, Metric } from '../types';
import { prometheusProvider } from './prometheus';

const ctx: MeasureContext = {
  project: 'shop',
  stage: 'prod',
  verificationId: 'v1',
  fetch: globalThis.fetch,
  egress: LOOPBACK_ALLOWED,
  kube: {} as KubeClusters,
  jobs: { namespace: 'default' },
  logger: silentLogger,
  now: () => new Date(),
};

describe('prometheus metric provider (real Prometheus)', () => {
  let target: LoopbackServer;
  let prometheus: TestPrometheus;
  // what the scraped target reports; the test changes it
  const samples = { success: '0.99', nan: 'NaN' };

  beforeAll(async () => {
    target = await loopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        [
          '# TYPE stagecoach_test_success_ratio gauge',
          `stagecoach_test_success_ratio{service="api"} ${samples.success}`,
          `stagecoach_test_success_ratio{service="web"} 0.97`,
          '# TYPE stagecoach_test_broken gauge',
          `stagecoach_test_broken ${samples.nan}`,
          '',
        ].join('\n'),
      );
    });
    prometheus = await startPrometheus(new URL(target.url).host);
    await prometheus.waitFor('stagecoach_test_success_ratio');
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await target?.close();
  });

  const metric = (prom: Record<string, unknown>, conditions: Partial<Metric> = {}): Metric => ({
    name: 'success-rate',
    count: 1,
    failureLimit: 0,
    inconclusiveLimit: 0,
    consecutiveErrorLimit: 4,
    provider: { prometheus: { address: prometheus.url, ...prom } },
    ...conditions,
  });

  it('judges a vector as a list of its values', async () => {
    const m = await prometheusProvider.run(
      ctx,
      metric({ query: 'stagecoach_test_success_ratio{service="api"}' }, { successCondition: 'result[0] >= 0.95' }),
    );
    expect(m).toMatchObject({
      phase: 'Successful',
      value: '[0.99]',
      metadata: { query: 'stagecoach_test_success_ratio{service="api"}' },
    });
    const both = await prometheusProvider.run(
      ctx,
      metric({ query: 'sort(stagecoach_test_success_ratio)' }, { successCondition: 'len(result) == 2 && result[0] < result[1]' }),
    );
    expect(both).toMatchObject({ phase: 'Successful', value: '[0.97,0.99]' });
  });

  it('judges a scalar as a number', async () => {
    const m = await prometheusProvider.run(
      ctx,
      metric({ query: 'scalar(stagecoach_test_success_ratio{service="web"})' }, { failureCondition: 'result < 0.98' }),
    );
    expect(m).toMatchObject({ phase: 'Failed', value: '0.97', message: 'result 0.97 met the failure condition result < 0.98' });
  });

  it('passes NaN through, for isNaN', async () => {
    const m = await prometheusProvider.run(
      ctx,
      metric({ query: 'stagecoach_test_broken' }, { successCondition: 'isNaN(result[0])' }),
    );
    expect(m).toMatchObject({ phase: 'Successful', value: '[NaN]' });
  });

  it('sees what the target reports now', async () => {
    samples.success = '0.5';
    await prometheus.waitFor('stagecoach_test_success_ratio{service="api"}', v => v[0] === 0.5);
    const m = await prometheusProvider.run(
      ctx,
      metric({ query: 'stagecoach_test_success_ratio{service="api"}' }, { successCondition: 'result[0] >= 0.95' }),
    );
    expect(m).toMatchObject({ phase: 'Failed', value: '[0.5]', message: 'result [0.5] did not satisfy result[0] >= 0.95' });
    samples.success = '0.99';
    await prometheus.waitFor('stagecoach_test_success_ratio{service="api"}', v => v[0] === 0.99);
  });

  it('is an Error when the query returns no data', async () => {
    const m = await prometheusProvider.run(ctx, metric({ query: 'no_such_metric' }, { successCondition: 'result[0] >= 0.95' }));
    expect(m).toMatchObject({
      phase: 'Error',
      value: '[]',
      message: 'could not evaluate successCondition result[0] >= 0.95: the result is empty: the metric provider returned no data',
    });
  });

  it("is an Error with Prometheus's own text when it refuses the query", async () => {
    const m = await prometheusProvider.run(ctx, metric({ query: 'rate(stagecoach_test_success_ratio' }));
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(new RegExp(`^Prometheus at ${prometheus.url}/ refused the query: bad_data: .*parse error`));
  });

  it('is an Error when the address is not a Prometheus server', async () => {
    const m = await prometheusProvider.run(ctx, metric({ address: target.url, query: 'up' }));
    expect(m.phase).toBe('Error');
    expect(m.message).toContain('did not answer as the Prometheus query API does');
  });

  it('decides a verification', async () => {
    const tick = await advanceAnalysis(
      {
        templates: ['slo'],
        args: {},
        metrics: [metric({ query: 'min(stagecoach_test_success_ratio)' }, { successCondition: 'result[0] >= 0.95' })],
      },
      { startedAt: new Date().toISOString() },
      new Map([['prometheus', prometheusProvider]]),
      ctx,
    );
    expect(tick).toMatchObject({ phase: 'Successful', metrics: [{ phase: 'Successful', measurements: [{ value: '[0.97]' }] }] });
  });
});
