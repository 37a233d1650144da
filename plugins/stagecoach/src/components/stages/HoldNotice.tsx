import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import {
  stagecoachAutoPromotionHoldReleasePermission,
  type AutoPromotionHold,
  type Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { PermittedButton } from '../permissions/PermittedButton';
import { absoluteTime, timeAgo } from '../shared/format';
import type { StageActions } from './useStageActions';

const useStyles = makeStyles(theme => ({
  hold: { wordBreak: 'break-word' },
  holdBy: { display: 'block', marginTop: theme.spacing(0.5) },
  resume: { marginTop: theme.spacing(1), marginLeft: theme.spacing(-1) },
}));

/** A rollback (or other manual promotion) that pauses auto-promotion, and the way to resume it. */
export function HoldNotice(props: {
  stage: Stage;
  hold: AutoPromotionHold;
  /** Whether the stage has holds for more than one warehouse, so each must name its own. */
  named: boolean;
  now?: number;
  actions: Pick<StageActions, 'resumeAutoPromotion' | 'isResuming'>;
}) {
  const classes = useStyles();
  const { stage, hold, named, now, actions } = props;
  const resuming = actions.isResuming(stage.name, hold.origin.name);
  const ofWarehouse = named ? ` for warehouse ${hold.origin.name}` : '';
  return (
    <Alert
      severity="info"
      role="status"
      aria-label={`Auto-promotion of ${stage.name} paused${ofWarehouse}`}
    >
      <AlertTitle>Auto-promotion paused{ofWarehouse}</AlertTitle>
      <Typography variant="body2" className={classes.hold}>
        {hold.reason}
      </Typography>
      <Typography
        variant="caption"
        color="textSecondary"
        className={classes.holdBy}
      >
        <time dateTime={hold.createdAt} title={absoluteTime(hold.createdAt)}>
          {hold.createdBy ? `by ${hold.createdBy} ` : ''}
          {timeAgo(hold.createdAt, now)}
        </time>
      </Typography>
      <PermittedButton
        permission={stagecoachAutoPromotionHoldReleasePermission}
        project={stage.project}
        stage={stage.name}
        activity={`resuming auto-promotion of ${stage.name}`}
        size="small"
        color="primary"
        className={classes.resume}
        disabled={resuming}
        aria-label={`Resume auto-promotion of ${stage.name}${ofWarehouse}`}
        onClick={() => actions.resumeAutoPromotion(stage, hold.origin.name)}
      >
        {resuming ? 'Resuming…' : 'Resume auto-promotion'}
      </PermittedButton>
    </Alert>
  );
}
