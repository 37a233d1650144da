import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import type {
  Freight,
  Promotion,
  Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { errorMessage, stagecoachApiRef } from '../api';
import { FreightVersions } from './FreightVersions';
import { absoluteTime, timeAgo } from './format';

const useStyles = makeStyles(theme => ({
  option: {
    alignItems: 'flex-start',
    margin: 0,
    padding: theme.spacing(1, 1, 1, 0),
    borderTop: `1px solid ${theme.palette.divider}`,
    '&:first-child': { borderTop: 'none' },
  },
  radio: { paddingTop: theme.spacing(0.5) },
  label: {
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(0.5),
    paddingTop: theme.spacing(0.75),
  },
  aliasLine: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
  },
  alias: { fontFamily: 'monospace', fontWeight: 600 },
  alert: { marginTop: theme.spacing(2) },
}));

/** Why a stage has no freight to take, in words that say what to do next. */
export function noCandidatesText(stage: Stage): string {
  const upstream = stage.requestedFreight.flatMap(r => r.sources.stages);
  const warehouses = stage.requestedFreight
    .filter(r => r.sources.direct)
    .map(r => r.origin.name);
  if (!warehouses.length && upstream.length) {
    return `No freight can enter ${
      stage.name
    } yet: it takes freight only after a successful promotion in ${upstream.join(
      ' or ',
    )}.`;
  }
  const from = warehouses.length
    ? ` by warehouse ${warehouses.join(' or ')}`
    : '';
  return `No freight can enter ${stage.name} yet: no freight discovered yet${from}.`;
}

function CandidateLabel(props: { freight: Freight; stage: string }) {
  const classes = useStyles();
  const { freight, stage } = props;
  const elsewhere = freight.currentlyIn.filter(s => s !== stage);
  return (
    <span className={classes.label}>
      <span className={classes.aliasLine}>
        <span className={classes.alias}>{freight.alias}</span>
        {freight.currentlyIn.includes(stage) && (
          <Chip component="span" size="small" color="primary" label="current" />
        )}
      </span>
      <FreightVersions freight={freight} />
      <Typography variant="caption" color="textSecondary" component="span">
        <span title={absoluteTime(freight.createdAt)}>
          created {timeAgo(freight.createdAt)}
        </span>
        {elsewhere.length > 0 && ` · in ${elsewhere.join(', ')}`}
      </Typography>
    </span>
  );
}

/** Choose freight among what may enter a stage, and queue its promotion. */
export function PromoteDialog(props: {
  project: string;
  stage: Stage;
  onClose(): void;
  onPromoted(promotion: Promotion): void;
}) {
  const classes = useStyles();
  const { project, stage, onClose, onPromoted } = props;
  const api = useApi(stagecoachApiRef);
  const candidates = useAsync(
    () => api.getStageFreight(project, stage.name),
    [api, project, stage.name],
  );
  const [selected, setSelected] = useState<string>();
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>();
  const titleId = `stagecoach-promote-${stage.name}`;

  const confirm = async () => {
    if (!selected) return;
    setSubmitting(true);
    setError(undefined);
    try {
      onPromoted(await api.promote(project, stage.name, selected));
    } catch (e) {
      setError(e);
      setSubmitting(false);
    }
  };

  let body: React.ReactNode;
  if (candidates.loading) {
    body = <Progress />;
  } else if (candidates.error) {
    body = (
      <Alert severity="error">
        Could not load the freight for {stage.name}:{' '}
        {errorMessage(candidates.error)}
      </Alert>
    );
  } else if (!candidates.value?.items.length) {
    body = (
      <Typography variant="body2" color="textSecondary">
        {noCandidatesText(stage)}
      </Typography>
    );
  } else {
    body = (
      <RadioGroup
        aria-label={`Freight that can enter ${stage.name}`}
        name={`freight-${stage.name}`}
        value={selected ?? ''}
        onChange={e => setSelected(e.target.value)}
      >
        {candidates.value.items.map(f => (
          <FormControlLabel
            key={f.id}
            value={f.id}
            className={classes.option}
            disabled={submitting}
            control={<Radio color="primary" className={classes.radio} />}
            label={<CandidateLabel freight={f} stage={stage.name} />}
          />
        ))}
      </RadioGroup>
    );
  }

  return (
    <Dialog
      open
      onClose={submitting ? undefined : onClose}
      aria-labelledby={titleId}
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id={titleId}>Promote to {stage.name}</DialogTitle>
      <DialogContent dividers>
        {body}
        {error !== undefined && (
          <Alert severity="error" className={classes.alert}>
            {errorMessage(error)}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={submitting}>
          Cancel
        </Button>
        <Button
          variant="contained"
          color="primary"
          disabled={!selected || submitting}
          onClick={confirm}
        >
          Promote
        </Button>
      </DialogActions>
    </Dialog>
  );
}
