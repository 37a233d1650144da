import type {
  MetricResult,
  Verification,
} from '@stagecoach/plugin-stagecoach-common';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * One metric in a few characters: `error-rate ✓ 3/3`, `smoke ✗ 1 failed`,
 * `latency ⋯ 2 measured`. A dry-run metric says so, since it decides nothing.
 */
export function metricSummary(metric: MetricResult): string {
  let text: string;
  switch (metric.phase) {
    case 'Successful':
      text = `✓ ${metric.successful}/${metric.count}`;
      break;
    case 'Failed':
      text = `✗ ${metric.failed} failed`;
      break;
    case 'Error':
      text = `✗ ${plural(metric.error, 'error')}`;
      break;
    case 'Inconclusive':
      text = `? ${metric.inconclusive} inconclusive`;
      break;
    case 'Running':
      text = `⋯ ${metric.count} measured`;
      break;
    case 'Pending':
      text = 'pending';
      break;
    case 'Aborted':
    default:
      text = 'aborted';
  }
  return `${metric.name} ${text}${metric.dryRun ? ' (dry run)' : ''}`;
}

/** A verification in one line: `2 metrics: error-rate ✓ 3/3, smoke ✗ 1 failed`. */
export function verificationSummary(verification: Verification): string {
  const metrics = verification.metrics ?? [];
  if (!metrics.length) {
    if (verification.phase === 'Pending')
      return 'waiting for the stage to be healthy';
    if (verification.phase === 'Successful')
      return 'no analysis to run: verified once the stage was healthy';
    return 'no metrics';
  }
  return `${plural(metrics.length, 'metric')}: ${metrics
    .map(metricSummary)
    .join(', ')}`;
}

/** `successful 3 · failed 0 · inconclusive 0 · error 0 of 3` */
export function metricCounts(metric: MetricResult): string {
  return `${metric.successful} successful · ${metric.failed} failed · ${metric.inconclusive} inconclusive · ${metric.error} error of ${metric.count}`;
}
