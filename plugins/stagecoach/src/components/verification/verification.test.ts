import type { MetricResult } from '@stagecoach/plugin-stagecoach-common';
import { devVerification, prodVerification } from '../../__fixtures__/pipeline';
import {
  metricCounts,
  metricSummary,
  verificationSummary,
} from './verification';

function metric(m: Partial<MetricResult>): MetricResult {
  return {
    name: 'm',
    provider: 'web',
    phase: 'Running',
    count: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveError: 0,
    measurements: [],
    ...m,
  };
}

describe('verification summaries', () => {
  it('says in one line how each metric came out', () => {
    expect(verificationSummary(prodVerification)).toBe(
      '2 metrics: error-rate ✓ 3/3, smoke ✗ 1 failed',
    );
    expect(verificationSummary(devVerification)).toBe(
      '2 metrics: error-rate ✓ 3/3, smoke ✓ 1/1',
    );
    expect(
      verificationSummary({
        ...devVerification,
        metrics: [devVerification.metrics[0]],
      }),
    ).toBe('1 metric: error-rate ✓ 3/3');
  });

  it('names errors, inconclusive results, running and dry-run metrics', () => {
    expect(
      metricSummary(
        metric({ name: 'api', phase: 'Error', count: 2, error: 2 }),
      ),
    ).toBe('api ✗ 2 errors');
    expect(
      metricSummary(
        metric({ name: 'api', phase: 'Error', count: 1, error: 1 }),
      ),
    ).toBe('api ✗ 1 error');
    expect(
      metricSummary(
        metric({ name: 'p99', phase: 'Inconclusive', inconclusive: 1 }),
      ),
    ).toBe('p99 ? 1 inconclusive');
    expect(
      metricSummary(metric({ name: 'p99', phase: 'Running', count: 2 })),
    ).toBe('p99 ⋯ 2 measured');
    expect(
      metricSummary(
        metric({
          name: 'canary',
          phase: 'Failed',
          failed: 1,
          count: 1,
          dryRun: true,
        }),
      ),
    ).toBe('canary ✗ 1 failed (dry run)');
  });

  it('says a verification without metrics yet waits for health', () => {
    expect(
      verificationSummary({
        ...devVerification,
        phase: 'Pending',
        metrics: [],
      }),
    ).toBe('waiting for the stage to be healthy');
    expect(
      verificationSummary({
        ...devVerification,
        phase: 'Successful',
        metrics: [],
      }),
    ).toBe('no analysis to run: verified once the stage was healthy');
  });

  it('counts every outcome of a metric out of its measurements', () => {
    expect(
      metricCounts(
        metric({
          count: 5,
          successful: 3,
          failed: 1,
          inconclusive: 0,
          error: 1,
        }),
      ),
    ).toBe('3 successful · 1 failed · 0 inconclusive · 1 error of 5');
  });
});
