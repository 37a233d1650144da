import { Link } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { PromotionStep } from '@stagecoach/plugin-stagecoach-common';
import { PhaseStatus } from '../shared/PhaseStatus';
import { durationBetween, httpUrl } from '../shared/format';

const useStyles = makeStyles(theme => ({
  list: {
    listStyle: 'none',
    margin: 0,
    padding: 0,
  },
  step: {
    display: 'grid',
    gridTemplateColumns: 'minmax(0, 1fr) auto auto',
    alignItems: 'baseline',
    columnGap: theme.spacing(1.5),
    padding: theme.spacing(0.75, 0),
    borderTop: `1px solid ${theme.palette.divider}`,
    '&:first-child': { borderTop: 'none' },
  },
  name: {
    display: 'flex',
    alignItems: 'baseline',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
    minWidth: 0,
  },
  alias: { fontWeight: 500 },
  uses: {
    fontFamily: 'monospace',
    color: theme.palette.text.secondary,
    fontSize: '0.75rem',
  },
  duration: {
    whiteSpace: 'nowrap',
    fontVariantNumeric: 'tabular-nums',
  },
  message: {
    gridColumn: '1 / -1',
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-word',
  },
  failed: { color: theme.palette.error.main },
  retrying: {
    color: theme.palette.warning?.main ?? theme.palette.text.secondary,
    fontSize: '0.75rem',
    fontWeight: 500,
  },
  links: {
    gridColumn: '1 / -1',
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(1.5),
  },
}));

/**
 * The pull request a step opened, waited for or merged (git-open-pr, git-wait-for-pr and
 * git-merge-pr output `pr: {id, url}`).
 */
function pullRequestOf(
  step: PromotionStep,
): { url: string; label: string } | undefined {
  const pr = step.outputs?.pr;
  if (typeof pr !== 'object' || pr === null) return undefined;
  const { url, id } = pr as { url?: unknown; id?: unknown };
  const safe = httpUrl(url);
  if (!safe) return undefined;
  // GitLab calls them merge requests and numbers them !12
  const mergeRequest = /\/-\/merge_requests\//.test(safe);
  const number =
    typeof id === 'number' || typeof id === 'string'
      ? ` ${mergeRequest ? '!' : '#'}${id}`
      : '';
  return {
    url: safe,
    label: `${mergeRequest ? 'merge request' : 'pull request'}${number}`,
  };
}

/** "retrying after 2 errors": a step with retry.errorThreshold that errored and runs again. */
function retryText(step: PromotionStep): string | undefined {
  const n = step.errorCount ?? 0;
  if (step.status !== 'Running' || n < 1) return undefined;
  return `retrying after ${n} error${n === 1 ? '' : 's'}`;
}

/** A promotion's steps in order: alias, the step it uses, status, message and duration. */
export function PromotionSteps(props: {
  steps: PromotionStep[];
  now?: number;
  'aria-label'?: string;
}) {
  const classes = useStyles();
  const { steps, now } = props;
  if (!steps.length) {
    return (
      <Typography variant="body2" color="textSecondary">
        This promotion has no steps.
      </Typography>
    );
  }
  return (
    <ol className={classes.list} aria-label={props['aria-label'] ?? 'Steps'}>
      {[...steps]
        .sort((a, b) => a.index - b.index)
        .map(step => {
          const failed = step.status === 'Failed' || step.status === 'Errored';
          const duration = durationBetween(
            step.startedAt,
            step.status === 'Running' ? undefined : step.finishedAt,
            now,
          );
          const retrying = retryText(step);
          const pr = pullRequestOf(step);
          return (
            <li key={step.index} className={classes.step}>
              <div className={classes.name}>
                <Typography
                  variant="body2"
                  component="span"
                  className={classes.alias}
                >
                  {step.alias}
                </Typography>
                <span className={classes.uses}>{step.uses}</span>
                {retrying && (
                  <span className={classes.retrying}>{retrying}</span>
                )}
              </div>
              <Typography
                variant="caption"
                color="textSecondary"
                className={classes.duration}
              >
                {duration}
              </Typography>
              <Typography variant="body2" component="span">
                <PhaseStatus phase={step.status} />
              </Typography>
              {step.message && (
                <Box className={classes.message}>
                  <Typography
                    variant="caption"
                    className={failed ? classes.failed : undefined}
                    color={failed ? undefined : 'textSecondary'}
                  >
                    {step.message}
                  </Typography>
                </Box>
              )}
              {pr && (
                <Box className={classes.links}>
                  <Typography variant="caption">
                    <Link to={pr.url} title={pr.url} externalLinkIcon>
                      {pr.label}
                    </Link>
                  </Typography>
                </Box>
              )}
            </li>
          );
        })}
    </ol>
  );
}
