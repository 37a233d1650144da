import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
} from '@backstage/core-components';
import { makeStyles } from '@material-ui/core/styles';
import type {
  PromotionPhase,
  StepStatus,
} from '@stagecoach/plugin-stagecoach-common';

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

function StatusIcon(props: { phase: PromotionPhase | StepStatus }) {
  switch (props.phase) {
    case 'Succeeded':
      return <StatusOK />;
    case 'Failed':
    case 'Errored':
      return <StatusError />;
    case 'Running':
      return <StatusRunning />;
    case 'Pending':
      return <StatusPending />;
    case 'Aborted':
    case 'Skipped':
    default:
      return <StatusAborted />;
  }
}

/**
 * A promotion phase or step status as a coloured icon followed by its name as visible,
 * accessible text: `Succeeded`, `Running`, `Failed` ... (The core status components hide
 * themselves from assistive technology, so they only draw the icon here.)
 */
export function PhaseStatus(props: { phase: PromotionPhase | StepStatus }) {
  const classes = useStyles();
  return (
    <span className={classes.root}>
      <StatusIcon phase={props.phase} />
      <span>{props.phase}</span>
    </span>
  );
}

export function isActivePhase(phase: PromotionPhase | undefined): boolean {
  return phase === 'Pending' || phase === 'Running';
}
