import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import {
  stagecoachPromotionAbortPermission,
  type Promotion,
} from '@stagecoach/plugin-stagecoach-common';
import { PhaseStatus } from '../shared/PhaseStatus';
import { PromotionSteps } from './PromotionSteps';
import { absoluteTime } from '../shared/format';
import { RunTimes } from '../shared/RunTimes';
import { PermittedButton } from '../permissions/PermittedButton';

const useStyles = makeStyles(theme => ({
  headline: {
    display: 'flex',
    alignItems: 'baseline',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  alias: { fontFamily: 'monospace', fontWeight: 600 },
  message: {
    marginTop: theme.spacing(0.5),
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-word',
  },
  failed: { color: theme.palette.error.main },
  steps: { marginTop: theme.spacing(1) },
  abort: { marginLeft: 'auto', padding: theme.spacing(0, 1) },
}));

function When(props: { promotion: Promotion; now?: number }) {
  const { promotion: p, now } = props;
  const waiting = p.waitingUntil
    ? `waiting, next look ${absoluteTime(p.waitingUntil)}`
    : undefined;
  return <RunTimes run={p} now={now} whileRunning={waiting} />;
}

/** One promotion: phase, freight, when, its message and its steps' progress. */
export function PromotionSummary(props: {
  promotion: Promotion;
  now?: number;
  /** Offered while the promotion is pending or running. */
  onAbort?(promotion: Promotion): void;
}) {
  const classes = useStyles();
  const { promotion, now, onAbort } = props;
  const failed = promotion.phase === 'Failed' || promotion.phase === 'Errored';
  const active = promotion.phase === 'Pending' || promotion.phase === 'Running';
  return (
    <div>
      <div className={classes.headline}>
        <Typography variant="body2" component="span">
          <PhaseStatus phase={promotion.phase} />
        </Typography>
        <Typography variant="body2" component="span" color="textSecondary">
          promotion of{' '}
          <span className={classes.alias}>{promotion.freight.alias}</span>
        </Typography>
        {active && onAbort && (
          <PermittedButton
            permission={stagecoachPromotionAbortPermission}
            project={promotion.project}
            stage={promotion.stage}
            activity={`aborting promotions to ${promotion.stage}`}
            size="small"
            color="secondary"
            className={classes.abort}
            disabled={!!promotion.abortRequestedBy}
            aria-label={`Abort the promotion of ${promotion.freight.alias} to ${promotion.stage}`}
            onClick={() => onAbort(promotion)}
          >
            {promotion.abortRequestedBy ? 'Aborting…' : 'Abort'}
          </PermittedButton>
        )}
      </div>
      <When promotion={promotion} now={now} />
      {promotion.message && (
        <Typography
          variant="body2"
          className={`${classes.message} ${failed ? classes.failed : ''}`}
        >
          {promotion.message}
        </Typography>
      )}
      <Box className={classes.steps}>
        <PromotionSteps
          steps={promotion.steps}
          now={now}
          aria-label={`Steps of the promotion of ${promotion.freight.alias} to ${promotion.stage}`}
        />
      </Box>
    </div>
  );
}
