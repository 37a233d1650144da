import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
  StatusWarning,
} from '@backstage/core-components';
import { makeStyles } from '@material-ui/core/styles';
import type {
  MeasurementPhase,
  PromotionPhase,
  StageHealthStatus,
  StepStatus,
  VerificationPhase,
} from '@stagecoach/plugin-stagecoach-common';

/** Every status word this component colours: promotions, steps, verifications, health. */
export type Phase =
  | PromotionPhase
  | StepStatus
  | VerificationPhase
  | MeasurementPhase
  | StageHealthStatus;

const useStyles = makeStyles(theme => ({
  root: {
    display: 'inline-flex',
    alignItems: 'baseline',
    fontWeight: theme.typography.fontWeightMedium as number,
    whiteSpace: 'nowrap',
    // the status components are body1 text; here their icon follows the surrounding text
    '& > span:first-child': { fontSize: 'inherit', lineHeight: 'inherit' },
  },
}));

function StatusIcon(props: { phase: Phase | string }) {
  switch (props.phase) {
    case 'Succeeded':
    case 'Successful':
    case 'Healthy':
      return <StatusOK />;
    case 'Failed':
    case 'Errored':
    case 'Error':
    case 'Degraded':
      return <StatusError />;
    case 'Running':
    case 'Progressing':
      return <StatusRunning />;
    case 'Pending':
      return <StatusPending />;
    case 'Inconclusive':
    case 'Missing':
      return <StatusWarning />;
    case 'Aborted':
    case 'Skipped':
    case 'Unknown':
    default:
      return <StatusAborted />;
  }
}

/**
 * A promotion phase or step status as a coloured icon followed by its name as visible,
 * accessible text: `Succeeded`, `Running`, `Failed` ... (The core status components hide
 * themselves from assistive technology, so they only draw the icon here.)
 */
export function PhaseStatus(props: {
  /** Also Argo CD's health words (Suspended, Missing), shown as they come. */
  phase: Phase | string;
  /** Text shown instead of the phase (the icon still follows the phase). */
  label?: string;
  className?: string;
}) {
  const classes = useStyles();
  return (
    <span
      className={
        props.className ? `${classes.root} ${props.className}` : classes.root
      }
    >
      <StatusIcon phase={props.phase} />
      <span>{props.label ?? props.phase}</span>
    </span>
  );
}

/** Pending or Running: a promotion or verification that is still under way. */
export function isActivePhase(
  phase: PromotionPhase | VerificationPhase | undefined,
): boolean {
  return phase === 'Pending' || phase === 'Running';
}
