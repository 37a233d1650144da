import { scrubbed } from './VerificationWorker';

describe('what a verification stores', () => {
  it('blanks out the configured credentials wherever a check echoed them', () => {
    const [metric] = scrubbed(
      [
        {
          name: 'echo',
          provider: 'web',
          phase: 'Failed',
          count: 1,
          successful: 0,
          failed: 1,
          inconclusive: 0,
          error: 0,
          consecutiveError: 0,
          measurements: [{ phase: 'Failed', value: '{"seen":"prom-secret-123"}', startedAt: '2026-12-01T10:00:00.000Z' }],
        },
      ],
      ['prom-secret-123'],
    );
    expect(metric.measurements[0].value).toBe('{"seen":"***"}');
  });

  it('blanks out credentials a check answered with or a job logged, and keeps the rest', () => {
    const [metric] = scrubbed([
      {
        name: 'migrate-check',
        provider: 'job',
        phase: 'Failed',
        message: 'job failed: could not reach postgres://app:s3cret@db:5432/app',
        count: 1,
        successful: 0,
        failed: 1,
        inconclusive: 0,
        error: 0,
        consecutiveError: 0,
        measurements: [
          {
            phase: 'Failed',
            value: '{"dsn":"postgres://app:s3cret@db:5432/app"}',
            message: 'exit code 1',
            startedAt: '2026-12-01T10:00:00.000Z',
            metadata: { job: 'dev-x-1', logs: 'curl -H "Authorization: Bearer abc.def.ghi" https://api\nFAIL: 503' },
          },
        ],
      },
    ]);
    expect(metric.message).toBe('job failed: could not reach postgres://***@db:5432/app');
    expect(metric.measurements[0]).toEqual({
      phase: 'Failed',
      value: '{"dsn":"postgres://***@db:5432/app"}',
      message: 'exit code 1',
      startedAt: '2026-12-01T10:00:00.000Z',
      metadata: { job: 'dev-x-1', logs: 'curl -H "Authorization: Bearer *** https://api\nFAIL: 503' },
    });
  });
});
