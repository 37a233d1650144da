import Typography from '@material-ui/core/Typography';
import { absoluteTime, durationBetween, timeAgo } from './format';

/** What promotions and verifications share: they are queued, run and finish, for someone. */
export interface Run {
  phase: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  createdBy?: string;
}

/**
 * When a run was queued, started or finished, how long it took, and who asked:
 * `finished 3 minutes ago · took 12s · by user:default/ada`. `whileRunning` follows the start
 * of a running one; `after` ends the line.
 */
export function RunTimes(props: {
  run: Run;
  now?: number;
  whileRunning?: string;
  after?: string;
}) {
  const { run, now, whileRunning, after } = props;
  let text: string;
  let at: string | undefined;
  if (run.phase === 'Pending') {
    at = run.createdAt;
    text = `queued ${timeAgo(at, now)}`;
  } else if (run.phase === 'Running') {
    at = run.startedAt ?? run.createdAt;
    text = `started ${timeAgo(at, now)}`;
    if (whileRunning) text += ` · ${whileRunning}`;
  } else {
    at = run.finishedAt ?? run.createdAt;
    text = `finished ${timeAgo(at, now)}`;
    const took = durationBetween(run.startedAt, run.finishedAt, now);
    if (took) text += ` · took ${took}`;
  }
  if (run.createdBy) text += ` · by ${run.createdBy}`;
  if (after) text += ` · ${after}`;
  return (
    <Typography variant="caption" color="textSecondary" component="div">
      <time dateTime={at} title={absoluteTime(at)}>
        {text}
      </time>
    </Typography>
  );
}
