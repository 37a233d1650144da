import Button, { type ButtonProps } from '@material-ui/core/Button';
import Tooltip from '@material-ui/core/Tooltip';
import { makeStyles } from '@material-ui/core/styles';
import { useState } from 'react';
import {
  type StagecoachPermission,
  useStagecoachPermission,
} from './useStagecoachPermission';

const useStyles = makeStyles(theme => ({
  // looks disabled, yet takes hover and focus for its tooltip (MUI's own disabled state
  // turns pointer events off, and with them the tooltip)
  denied: {
    color: theme.palette.action.disabled,
    borderColor: theme.palette.action.disabledBackground,
    cursor: 'not-allowed',
    '&:hover': { backgroundColor: 'transparent' },
  },
  // a contained button's own colours are its background's
  deniedContained: {
    '&, &:hover': {
      backgroundColor: theme.palette.action.disabledBackground,
      boxShadow: 'none',
    },
  },
  deniedFocus: {
    outline: `2px solid ${theme.palette.action.disabled}`,
    outlineOffset: 2,
  },
}));

let reasonIds = 0;

/**
 * A button for an action the permission policy may deny. While the permission is being
 * checked it is disabled. When denied it looks disabled and does nothing, yet stays
 * focusable (`aria-disabled`) so that it can say why: in a tooltip on hover and keyboard
 * focus, and as its accessible description for screen readers.
 *
 * `activity` names what the permission allows here ("promoting to prod"), for the reason.
 */
export function PermittedButton(
  props: ButtonProps & {
    permission: StagecoachPermission;
    project: string;
    /** The stage, for stage permissions. */
    stage?: string;
    activity: string;
  },
) {
  const classes = useStyles();
  const {
    permission,
    project,
    stage,
    activity,
    disabled,
    onClick,
    className,
    ...buttonProps
  } = props;
  const { allowed, reason } = useStagecoachPermission({
    permission,
    project,
    stage,
    activity,
  });
  const [reasonId] = useState(() => `stagecoach-denied-${++reasonIds}`);

  if (!reason) {
    return (
      <Button
        {...buttonProps}
        className={className}
        disabled={disabled || !allowed}
        onClick={onClick}
      />
    );
  }
  return (
    <>
      <Tooltip title={reason}>
        <Button
          {...buttonProps}
          className={[
            className,
            classes.denied,
            buttonProps.variant === 'contained' && classes.deniedContained,
          ]
            .filter(Boolean)
            .join(' ')}
          aria-disabled="true"
          aria-describedby={reasonId}
          disableRipple
          focusVisibleClassName={classes.deniedFocus}
        />
      </Tooltip>
      <span id={reasonId} hidden>
        {reason}
      </span>
    </>
  );
}
