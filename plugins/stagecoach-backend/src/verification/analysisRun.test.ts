import type { Measurement } from '@stagecoach/plugin-stagecoach-common';
import type { KubeClusters } from '../integrations/kubernetes/types';
import { silentLogger } from '../util/types';
import { abortAnalysis, advanceAnalysis, AnalysisState } from './analysisRun';
import { errorMeasurement, judgedMeasurement } from './conditions';
import type { AnalysisTick, MeasureContext, Metric, MetricProvider, ResolvedAnalysis } from './types';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');

function clock() {
  let t = T0;
  return {
    now: () => new Date(t),
    set: (iso: string) => {
      t = Date.parse(iso);
    },
    advance: (ms: number) => {
      t += ms;
    },
    at: (offsetMs: number) => new Date(T0 + offsetMs).toISOString(),
  };
}

function context(c: ReturnType<typeof clock>): MeasureContext {
  return {
    project: 'shop',
    stage: 'prod',
    verificationId: 'v1',
    fetch: globalThis.fetch,
    kube: {} as KubeClusters,
    jobs: { namespace: 'default' },
    logger: silentLogger,
    now: c.now,
  };
}

function metric(over: Partial<Metric> & { name: string }): Metric {
  return { count: 1, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4, provider: { web: {} }, ...over };
}

function analysis(...metrics: Metric[]): ResolvedAnalysis {
  return { templates: ['checks'], args: {}, metrics };
}

/**
 * A web-like provider that measures the scripted values in turn, judged by the metric's
 * conditions; an Error in the script is an error measurement, a function throws.
 */
function scripted(values: unknown[], name = 'web') {
  const calls: string[] = [];
  const provider: MetricProvider = {
    name,
    async run(ctx, m) {
      calls.push(`${m.name}@${ctx.now().toISOString()}`);
      if (values.length === 0) throw new Error(`script for ${m.name} ran out`);
      const v = values.shift();
      if (typeof v === 'function') return v();
      if (v instanceof Error) return errorMeasurement(v.message, ctx.now(), ctx.now());
      return judgedMeasurement(m, v, ctx.now(), ctx.now());
    },
  };
  return { provider, calls };
}

/** A job-like provider: run leaves the measurement Running; resume gives the scripted outcomes. */
function longRunning(resumes: (Partial<Measurement> | 'still running')[]) {
  const log: string[] = [];
  const provider: MetricProvider = {
    name: 'job',
    async run(ctx) {
      log.push('run');
      return { phase: 'Running', startedAt: ctx.now().toISOString(), metadata: { job: 'smoke-1' } };
    },
    async resume(ctx, _m, running) {
      log.push('resume');
      const next = resumes.shift() ?? 'still running';
      if (next === 'still running') return running;
      return { ...running, ...next, finishedAt: ctx.now().toISOString() } as Measurement;
    },
    async terminate(ctx, _m, running) {
      log.push('terminate');
      return { ...running, phase: 'Failed', message: 'job deleted', finishedAt: ctx.now().toISOString() };
    },
  };
  return { provider, log };
}

const providers = (...ps: MetricProvider[]) => new Map(ps.map(p => [p.name, p]));

/** Ticks at each nextAt until the analysis ends; returns every tick. */
async function runToEnd(a: ResolvedAnalysis, ps: ReadonlyMap<string, MetricProvider>, c = clock()) {
  const ctx = context(c);
  const state: AnalysisState = { startedAt: c.now().toISOString() };
  const ticks: AnalysisTick[] = [];
  for (let i = 0; i < 100; i++) {
    const tick = await advanceAnalysis(a, state, ps, ctx);
    ticks.push(tick);
    state.metrics = tick.metrics;
    if (!tick.nextAt) return ticks;
    expect(Date.parse(tick.nextAt)).toBeGreaterThanOrEqual(c.now().getTime());
    c.set(tick.nextAt);
  }
  throw new Error('the analysis did not end');
}

describe('advanceAnalysis', () => {
  it('waits initialDelay, then takes count measurements interval apart', async () => {
    const { provider, calls } = scripted([[0.99], [0.98], [0.97]]);
    const c = clock();
    const ticks = await runToEnd(
      analysis(metric({ name: 'success-rate', count: 3, interval: '1m', initialDelay: '30s', successCondition: 'result[0] >= 0.95' })),
      providers(provider),
      c,
    );
    expect(ticks[0]).toMatchObject({ phase: 'Running', nextAt: c.at(30_000) });
    expect(ticks[0].metrics[0]).toMatchObject({ phase: 'Pending', measurements: [] });
    expect(calls).toEqual([`success-rate@${c.at(30_000)}`, `success-rate@${c.at(90_000)}`, `success-rate@${c.at(150_000)}`]);
    const end = ticks[ticks.length - 1];
    expect(end.phase).toBe('Successful');
    expect(end.nextAt).toBeUndefined();
    expect(end.metrics[0]).toMatchObject({
      phase: 'Successful',
      count: 3,
      successful: 3,
      message: '3 of 3 measurements successful',
      measurements: [{ value: '[0.99]' }, { value: '[0.98]' }, { value: '[0.97]' }],
    });
  });

  it('tolerates failures within failureLimit', async () => {
    const { provider } = scripted([[0.2], [0.01], [0.02]]);
    const ticks = await runToEnd(
      analysis(metric({ name: 'error-rate', count: 3, interval: '30s', failureLimit: 1, successCondition: 'result[0] < 0.05' })),
      providers(provider),
    );
    const end = ticks[ticks.length - 1];
    expect(end.phase).toBe('Successful');
    expect(end.metrics[0]).toMatchObject({ failed: 1, successful: 2, message: '2 of 3 measurements successful; 1 failed (failureLimit 1)' });
  });

  it('fails the metric, and the analysis, once failures pass failureLimit', async () => {
    const { provider, calls } = scripted([[0.2], [0.01], [0.12], [0.01], [0.01]]);
    const ticks = await runToEnd(
      analysis(metric({ name: 'error-rate', count: 5, interval: '30s', failureLimit: 1, successCondition: 'result[0] < 0.05' })),
      providers(provider),
    );
    const end = ticks[ticks.length - 1];
    expect(calls).toHaveLength(3);
    expect(end.phase).toBe('Failed');
    expect(end.message).toBe(
      'metric error-rate failed: 2 of 3 measurements failed (failureLimit 1): result [0.12] did not satisfy result[0] < 0.05',
    );
    expect(end.metrics[0].measurements.map(m => m.phase)).toEqual(['Failed', 'Successful', 'Failed']);
  });

  it('is Inconclusive once inconclusive measurements pass inconclusiveLimit', async () => {
    const cond = { successCondition: 'result > 0.9', failureCondition: 'result < 0.5' };
    const within = await runToEnd(
      analysis(metric({ name: 'score', count: 2, interval: '10s', inconclusiveLimit: 1, ...cond })),
      providers(scripted([0.7, 0.95]).provider),
    );
    expect(within[within.length - 1].phase).toBe('Successful');
    const beyond = await runToEnd(
      analysis(metric({ name: 'score', count: 3, interval: '10s', inconclusiveLimit: 1, ...cond })),
      providers(scripted([0.7, 0.95, 0.6]).provider),
    );
    const end = beyond[beyond.length - 1];
    expect(end.phase).toBe('Inconclusive');
    expect(end.message).toBe(
      'metric score was inconclusive: 2 of 3 measurements inconclusive (inconclusiveLimit 1): result 0.6 neither satisfied result > 0.9 nor met the failure condition result < 0.5',
    );
  });

  it('retries errors 10s apart, not counting them, and errors after consecutiveErrorLimit in a row', async () => {
    const c = clock();
    const recovered = await runToEnd(
      analysis(metric({ name: 'health', consecutiveErrorLimit: 2, successCondition: 'result.ok' })),
      providers(scripted([new Error('connection refused'), new Error('connection refused'), { ok: true }]).provider),
      c,
    );
    const ok = recovered[recovered.length - 1];
    expect(ok.phase).toBe('Successful');
    expect(ok.metrics[0]).toMatchObject({ count: 1, error: 2, consecutiveError: 0, successful: 1 });
    expect(ok.metrics[0].measurements.map(m => m.startedAt)).toEqual([c.at(0), c.at(10_000), c.at(20_000)]);
    expect(recovered[0]).toMatchObject({
      phase: 'Running',
      message: 'metric health: last measurement errored, retrying (1 of 2 errors in a row tolerated): connection refused',
    });

    const broken = await runToEnd(
      analysis(metric({ name: 'health', consecutiveErrorLimit: 2, successCondition: 'result.ok' })),
      providers(scripted([new Error('503'), new Error('503'), new Error('503 again')]).provider),
    );
    const end = broken[broken.length - 1];
    expect(end.phase).toBe('Error');
    expect(end.message).toBe('metric health errored: 3 measurements in a row errored (consecutiveErrorLimit 2): 503 again');
  });

  it('measures a dry-run metric but does not let it decide', async () => {
    const ticks = await runToEnd(
      analysis(
        metric({ name: 'latency', dryRun: true, successCondition: 'result < 100', provider: { prometheus: {} } }),
        metric({ name: 'health', successCondition: 'result == "ok"' }),
      ),
      providers(scripted(['ok']).provider, scripted([250], 'prometheus').provider),
    );
    const end = ticks[ticks.length - 1];
    expect(end.phase).toBe('Successful');
    expect(end.message).toBe('1 metric successful; dry run: metric latency failed: 1 of 1 measurement failed (failureLimit 0): result 250 did not satisfy result < 100');
    expect(end.metrics.map(m => [m.name, m.phase, !!m.dryRun])).toEqual([
      ['latency', 'Failed', true],
      ['health', 'Successful', false],
    ]);
  });

  it('resumes a Running measurement every few seconds until it finishes', async () => {
    const job = longRunning(['still running', { phase: 'Successful', message: 'job succeeded' }]);
    const c = clock();
    const ticks = await runToEnd(analysis(metric({ name: 'smoke', provider: { job: { spec: {} } } })), providers(job.provider), c);
    expect(job.log).toEqual(['run', 'resume', 'resume']);
    expect(ticks.map(t => t.phase)).toEqual(['Running', 'Running', 'Successful']);
    expect(ticks[0].nextAt).toBe(c.at(5_000));
    expect(ticks[0].metrics[0]).toMatchObject({ phase: 'Running', count: 0, measurements: [{ phase: 'Running' }] });
    expect(ticks[2].metrics[0]).toMatchObject({
      phase: 'Successful',
      count: 1,
      measurements: [{ phase: 'Successful', startedAt: c.at(0), finishedAt: c.at(10_000), metadata: { job: 'smoke-1' } }],
    });
  });

  it('stops the other metrics when one fails', async () => {
    const job = longRunning([]);
    const ticks = await runToEnd(
      analysis(
        metric({ name: 'smoke', provider: { job: { spec: {} } } }),
        metric({ name: 'error-rate', successCondition: 'result[0] < 0.05' }),
        metric({ name: 'later', initialDelay: '5m' }),
      ),
      providers(job.provider, scripted([[0.5]]).provider),
    );
    expect(ticks).toHaveLength(1);
    const end = ticks[0];
    expect(end.phase).toBe('Failed');
    expect(job.log).toEqual(['run', 'terminate']);
    expect(end.metrics.map(m => [m.name, m.phase, m.message])).toEqual([
      ['smoke', 'Aborted', 'metric error-rate failed'],
      ['error-rate', 'Failed', '1 of 1 measurement failed (failureLimit 0): result [0.5] did not satisfy result[0] < 0.05'],
      ['later', 'Aborted', 'metric error-rate failed'],
    ]);
    expect(end.metrics[0].measurements).toEqual([expect.objectContaining({ phase: 'Failed', message: 'job deleted' })]);
  });

  it('turns a provider that throws into an Error measurement', async () => {
    const c = clock();
    const tick = await advanceAnalysis(
      analysis(metric({ name: 'health', consecutiveErrorLimit: 0 })),
      { startedAt: c.now().toISOString() },
      providers(
        scripted([
          () => {
            throw new Error('socket hang up');
          },
        ]).provider,
      ),
      context(c),
    );
    expect(tick.phase).toBe('Error');
    expect(tick.metrics[0].measurements).toEqual([
      { phase: 'Error', message: 'the web provider failed: socket hang up', startedAt: c.at(0), finishedAt: c.at(0) },
    ]);
    expect(tick.message).toBe(
      'metric health errored: 1 measurement in a row errored (consecutiveErrorLimit 0): the web provider failed: socket hang up',
    );
  });

  it('says when no provider of that name is installed', async () => {
    const c = clock();
    const tick = await advanceAnalysis(
      analysis(metric({ name: 'q', consecutiveErrorLimit: 0, provider: { prometheus: {} } })),
      { startedAt: c.now().toISOString() },
      providers(),
      context(c),
    );
    expect(tick.metrics[0].measurements[0].message).toBe('no metric provider named prometheus is installed');
  });

  it('gives the same answer when ticked again after it ended', async () => {
    const c = clock();
    const a = analysis(metric({ name: 'health' }));
    const ps = providers(scripted(['ok']).provider);
    const first = await advanceAnalysis(a, { startedAt: c.now().toISOString() }, ps, context(c));
    c.advance(60_000);
    const again = await advanceAnalysis(a, { startedAt: c.at(0), metrics: first.metrics }, ps, context(c));
    expect(again).toEqual(first);
  });
});

describe('abortAnalysis', () => {
  it('terminates running measurements and aborts every metric not done', async () => {
    const c = clock();
    const job = longRunning([]);
    const a = analysis(
      metric({ name: 'health' }),
      metric({ name: 'smoke', provider: { job: { spec: {} } } }),
      metric({ name: 'soak', count: 10, interval: '1m' }),
    );
    const ps = providers(scripted(['ok', 'ok', 'ok']).provider, job.provider);
    const first = await advanceAnalysis(a, { startedAt: c.now().toISOString() }, ps, context(c));
    expect(first.phase).toBe('Running');
    c.advance(1_000);
    const aborted = await abortAnalysis(a, { startedAt: c.at(0), metrics: first.metrics }, ps, context(c), 'aborted by alice');
    expect(aborted.phase).toBe('Aborted');
    expect(aborted.message).toBe('aborted by alice');
    expect(aborted.nextAt).toBeUndefined();
    expect(job.log).toEqual(['run', 'terminate']);
    expect(aborted.metrics.map(m => [m.name, m.phase])).toEqual([
      ['health', 'Successful'],
      ['smoke', 'Aborted'],
      ['soak', 'Aborted'],
    ]);
    expect(aborted.metrics[1].measurements[0]).toMatchObject({ phase: 'Failed', finishedAt: c.at(1_000) });
  });

  it('ends a running measurement whose provider cannot terminate it', async () => {
    const c = clock();
    const running: MetricProvider = { name: 'job', run: async ctx => ({ phase: 'Running', startedAt: ctx.now().toISOString() }) };
    const a = analysis(metric({ name: 'smoke', provider: { job: { spec: {} } } }));
    const first = await advanceAnalysis(a, { startedAt: c.at(0) }, providers(running), context(c));
    const aborted = await abortAnalysis(a, { startedAt: c.at(0), metrics: first.metrics }, providers(running), context(c));
    expect(aborted.metrics[0].measurements[0]).toMatchObject({
      phase: 'Error',
      message: 'stopped: the verification was aborted',
      finishedAt: c.at(0),
    });
  });
});
