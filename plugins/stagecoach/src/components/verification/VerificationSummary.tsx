import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import {
  stagecoachVerifyPermission,
  type Stage,
  type Verification,
} from '@stagecoach/plugin-stagecoach-common';
import { PhaseStatus, isActivePhase } from '../shared/PhaseStatus';
import { RunTimes } from '../shared/RunTimes';
import { verificationSummary } from './verification';
import { PermittedButton } from '../permissions/PermittedButton';

const useStyles = makeStyles(theme => ({
  headline: {
    display: 'flex',
    alignItems: 'baseline',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  alias: { fontFamily: 'monospace', fontWeight: 600 },
  summary: { marginTop: theme.spacing(0.25), wordBreak: 'break-word' },
  message: {
    marginTop: theme.spacing(0.5),
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-word',
  },
  failed: { color: theme.palette.error.main },
  actions: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(0.5),
    marginTop: theme.spacing(0.5),
    marginLeft: theme.spacing(-1),
  },
}));

/** When it was queued, started or finished, how long it took, who asked, and who asked to abort it. */
export function VerificationWhen(props: {
  verification: Verification;
  now?: number;
}) {
  const { verification: v, now } = props;
  const abort =
    v.abortRequestedBy && isActivePhase(v.phase)
      ? `abort asked by ${v.abortRequestedBy}`
      : undefined;
  return <RunTimes run={v} now={now} after={abort} />;
}

export function isFailedVerification(v: Verification): boolean {
  return v.phase === 'Failed' || v.phase === 'Error';
}

/** Why a stage without analysis templates shows no verification. */
function withoutAnalysisText(stage: Stage): string {
  if (stage.currentFreight && stage.health?.status === 'Healthy') {
    return `${stage.currentFreight.alias} is verified here: the stage is healthy and has no analysis to run.`;
  }
  return 'No analysis to run: freight is verified here once the stage is healthy.';
}

/**
 * The stage's newest verification in a few lines (phase, the freight it verified, each
 * metric's result, when), with a way to its details, to verify again and to abort.
 */
export function VerificationSummary(props: {
  stage: Stage;
  now?: number;
  /** True while starting or aborting a verification of the stage: its buttons say so. */
  busy?: boolean;
  onDetails?(stage: Stage): void;
  onReverify?(stage: Stage): Promise<void>;
  onAbort?(stage: Stage, verification: Verification): Promise<void>;
}) {
  const classes = useStyles();
  const { stage, now, busy = false, onDetails, onReverify, onAbort } = props;
  const v = stage.verification;
  const templates = stage.analysisTemplates ?? [];

  if (!v && !templates.length) {
    return (
      <Typography variant="body2" color="textSecondary">
        {withoutAnalysisText(stage)}
      </Typography>
    );
  }

  const active = v ? isActivePhase(v.phase) : false;
  const canVerify =
    !!onReverify && !active && !!stage.currentFreight && templates.length > 0;
  const failed = v ? isFailedVerification(v) : false;
  const ofOld =
    v && stage.currentFreight && v.freight.id !== stage.currentFreight.id;

  return (
    <div data-testid="verification-summary">
      {v ? (
        <>
          <div className={classes.headline}>
            <Typography variant="body2" component="span">
              <PhaseStatus phase={v.phase} />
            </Typography>
            <Typography variant="body2" component="span" color="textSecondary">
              of <span className={classes.alias}>{v.freight.alias}</span>
              {ofOld && ' (not the current freight)'}
            </Typography>
          </div>
          <Typography variant="body2" className={classes.summary}>
            {verificationSummary(v)}
          </Typography>
          <VerificationWhen verification={v} now={now} />
          {v.message && v.phase !== 'Successful' && (
            <Typography
              variant="body2"
              className={`${classes.message} ${failed ? classes.failed : ''}`}
            >
              {v.message}
            </Typography>
          )}
        </>
      ) : (
        <Typography variant="body2" color="textSecondary">
          {stage.currentFreight
            ? `${stage.currentFreight.alias} is not verified yet`
            : 'Nothing to verify yet'}{' '}
          (analysis {templates.join(', ')}).
        </Typography>
      )}
      {(canVerify || (v && (onDetails || (active && onAbort)))) && (
        <div className={classes.actions}>
          {v && onDetails && (
            <Button
              size="small"
              aria-label={`Details of the verification of ${v.freight.alias} in ${stage.name}`}
              onClick={() => onDetails(stage)}
            >
              Details
            </Button>
          )}
          {canVerify && (
            <PermittedButton
              permission={stagecoachVerifyPermission}
              project={stage.project}
              stage={stage.name}
              activity={`verifying ${stage.name}${v ? ' again' : ''}`}
              size="small"
              color="primary"
              disabled={busy}
              aria-label={`Verify ${stage.currentFreight!.alias} in ${
                stage.name
              } again`}
              onClick={() => onReverify!(stage)}
            >
              {busy ? 'Starting…' : `Verify${v ? ' again' : ''}`}
            </PermittedButton>
          )}
          {v && active && onAbort && (
            <PermittedButton
              permission={stagecoachVerifyPermission}
              project={stage.project}
              stage={stage.name}
              activity={`aborting verifications in ${stage.name}`}
              size="small"
              color="secondary"
              disabled={busy || !!v.abortRequestedBy}
              aria-label={`Abort the verification of ${v.freight.alias} in ${stage.name}`}
              onClick={() => onAbort(stage, v)}
            >
              {busy || v.abortRequestedBy ? 'Aborting…' : 'Abort verification'}
            </PermittedButton>
          )}
        </div>
      )}
    </div>
  );
}
