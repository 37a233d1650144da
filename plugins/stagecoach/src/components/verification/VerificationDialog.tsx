import { Progress, type TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import type {
  Measurement,
  MetricResult,
  Stage,
  Verification,
} from '@stagecoach/plugin-stagecoach-common';
import { useEffect, useState } from 'react';
import { errorMessage, stagecoachApiRef } from '../../api';
import { DataTable, type DataRow } from '../shared/DataTable';
import { PhaseStatus } from '../shared/PhaseStatus';
import { VerificationWhen, isFailedVerification } from './VerificationSummary';
import { absoluteTime, timeAgo } from '../shared/format';
import { metricCounts, verificationSummary } from './verification';

/** How many earlier verifications the history offers. */
export const HISTORY_LIMIT = 20;

const useStyles = makeStyles(theme => ({
  section: { marginTop: theme.spacing(3) },
  heading: {
    display: 'block',
    marginBottom: theme.spacing(0.5),
    color: theme.palette.text.secondary,
    fontWeight: 600,
    letterSpacing: '0.06em',
    textTransform: 'uppercase',
  },
  headline: {
    display: 'flex',
    alignItems: 'baseline',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  alias: { fontFamily: 'monospace', fontWeight: 600 },
  mono: { fontFamily: 'monospace', wordBreak: 'break-all' },
  message: { whiteSpace: 'pre-wrap', wordBreak: 'break-word' },
  failed: { color: theme.palette.error.main },
  metric: {
    padding: theme.spacing(1.5, 0),
    borderTop: `1px solid ${theme.palette.divider}`,
    '&:first-of-type': { borderTop: 'none', paddingTop: 0 },
  },
  metricName: { fontWeight: 600 },
  status: { marginLeft: 'auto' },
  measurements: { marginTop: theme.spacing(1) },
  logs: {
    margin: 0,
    maxHeight: 240,
    overflow: 'auto',
    padding: theme.spacing(1),
    fontFamily: 'monospace',
    fontSize: '0.75rem',
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-all',
    backgroundColor: theme.palette.background.default,
    borderRadius: theme.shape.borderRadius,
  },
  historyItem: {
    display: 'grid',
    gridTemplateColumns: 'auto auto minmax(0, 1fr) auto',
    alignItems: 'baseline',
    columnGap: theme.spacing(1.5),
    paddingLeft: theme.spacing(1),
    paddingRight: theme.spacing(1),
  },
  ellipsis: {
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  },
}));

function Heading(props: { children: React.ReactNode; id?: string }) {
  const classes = useStyles();
  return (
    <Typography
      variant="overline"
      component="h3"
      id={props.id}
      className={classes.heading}
    >
      {props.children}
    </Typography>
  );
}

function Clock(props: { at?: string }) {
  if (!props.at) return null;
  const d = new Date(props.at);
  return (
    <time dateTime={props.at} title={absoluteTime(props.at)}>
      {Number.isNaN(d.getTime()) ? props.at : d.toLocaleTimeString()}
    </time>
  );
}

/** A measurement's details other than its logs: the job's name, the query sent. */
function metadataText(measurement: Measurement): string {
  return Object.entries(measurement.metadata ?? {})
    .filter(([key]) => key !== 'logs')
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n');
}

type MeasurementRow = DataRow & {
  measurement: Measurement;
  /** Its place in the metric's list, from 1: the job logs are named by it. */
  number: number;
  metric: string;
};

/** The job's logs of a measurement, under its row. */
function MeasurementLogs(props: { row: MeasurementRow }) {
  const classes = useStyles();
  const { measurement, number, metric } = props.row;
  const logs = measurement.metadata?.logs;
  if (!logs) return null;
  return (
    <pre
      className={classes.logs}
      aria-label={`Logs of measurement ${number} of ${metric}`}
    >
      {logs}
    </pre>
  );
}

const measurementLogs = (row: MeasurementRow) =>
  row.measurement.metadata?.logs ? <MeasurementLogs row={row} /> : undefined;

/** The value and message of a measurement, with its details other than its logs. */
function MeasurementMessage(props: { measurement: Measurement }) {
  const classes = useStyles();
  const { measurement: m } = props;
  const details = metadataText(m);
  const bad = m.phase === 'Failed' || m.phase === 'Error';
  return (
    <>
      {m.message && (
        <span className={`${classes.message} ${bad ? classes.failed : ''}`}>
          {m.message}
        </span>
      )}
      {details && (
        <Typography
          variant="caption"
          color="textSecondary"
          component="div"
          className={`${classes.mono} ${classes.message}`}
        >
          {details}
        </Typography>
      )}
    </>
  );
}

const top: React.CSSProperties = { verticalAlign: 'top' };
const nowrap: React.CSSProperties = { ...top, whiteSpace: 'nowrap' };

const measurementColumns: TableColumn<MeasurementRow>[] = [
  {
    title: 'Phase',
    cellStyle: nowrap,
    render: ({ measurement: m }) => <PhaseStatus phase={m.phase} />,
  },
  {
    title: 'Value',
    cellStyle: { ...top, fontFamily: 'monospace', wordBreak: 'break-all' },
    render: ({ measurement: m }) => m.value,
  },
  {
    title: 'Message',
    cellStyle: top,
    render: ({ measurement: m }) => <MeasurementMessage measurement={m} />,
  },
  {
    title: 'Started',
    cellStyle: nowrap,
    render: ({ measurement: m }) => <Clock at={m.startedAt} />,
  },
  {
    title: 'Finished',
    cellStyle: nowrap,
    render: ({ measurement: m }) => <Clock at={m.finishedAt} />,
  },
];

function Measurements(props: { metric: MetricResult }) {
  const classes = useStyles();
  const { metric } = props;
  if (!metric.measurements.length) {
    return (
      <Typography variant="caption" color="textSecondary">
        Not measured yet.
      </Typography>
    );
  }
  return (
    <div className={classes.measurements}>
      <DataTable
        aria-label={`Measurements of ${metric.name}`}
        columns={measurementColumns}
        data={metric.measurements.map((m, i) => ({
          id: `${m.startedAt}-${i}`,
          measurement: m,
          number: i + 1,
          metric: metric.name,
        }))}
        below={measurementLogs}
      />
    </div>
  );
}

function Metric(props: { metric: MetricResult }) {
  const classes = useStyles();
  const { metric } = props;
  const failed = metric.phase === 'Failed' || metric.phase === 'Error';
  // a metric failed by its last measurement says what that measurement says: once is enough
  const lastMessage =
    metric.measurements[metric.measurements.length - 1]?.message;
  return (
    <section className={classes.metric} aria-label={`Metric ${metric.name}`}>
      <div className={classes.headline}>
        <Typography
          variant="body1"
          component="h4"
          className={classes.metricName}
        >
          {metric.name}
        </Typography>
        <Chip size="small" variant="outlined" label={metric.provider} />
        {metric.dryRun && <Chip size="small" label="dry run" />}
        <Typography variant="body2" component="span" className={classes.status}>
          <PhaseStatus phase={metric.phase} />
        </Typography>
      </div>
      <Typography variant="caption" color="textSecondary" component="div">
        {metricCounts(metric)}
        {metric.consecutiveError > 0 &&
          ` · ${metric.consecutiveError} errors in a row`}
      </Typography>
      {metric.message && metric.message !== lastMessage && (
        <Typography
          variant="body2"
          className={`${classes.message} ${failed ? classes.failed : ''}`}
        >
          {metric.message}
        </Typography>
      )}
      <Measurements metric={metric} />
    </section>
  );
}

function Details(props: { verification: Verification; now?: number }) {
  const classes = useStyles();
  const { verification: v, now } = props;
  const args = Object.entries(v.args ?? {});
  return (
    <div>
      <div className={classes.headline}>
        <Typography variant="body1" component="span">
          <PhaseStatus phase={v.phase} />
        </Typography>
        <Typography variant="body2" component="span" color="textSecondary">
          of <span className={classes.alias}>{v.freight.alias}</span>
          {v.promotionId ? ' after its promotion' : ' (verified again)'}
        </Typography>
      </div>
      <VerificationWhen verification={v} now={now} />
      {v.message && (
        <Typography
          variant="body2"
          className={`${classes.message} ${
            isFailedVerification(v) ? classes.failed : ''
          }`}
        >
          {v.message}
        </Typography>
      )}
      <Typography variant="caption" color="textSecondary" component="div">
        analysis {v.analysisTemplates.join(', ') || '(none)'}
        {args.length > 0 && (
          <>
            {' · args '}
            <span className={classes.mono}>
              {args.map(([k, val]) => `${k}=${val}`).join(' ')}
            </span>
          </>
        )}
      </Typography>
      <div className={classes.section}>
        <Heading>Metrics</Heading>
        {v.metrics.length ? (
          v.metrics.map(metric => <Metric key={metric.name} metric={metric} />)
        ) : (
          <Typography variant="body2" color="textSecondary">
            {verificationSummary(v)}
          </Typography>
        )}
      </div>
    </div>
  );
}

function History(props: {
  stage: Stage;
  items?: Verification[];
  error?: unknown;
  selected: string;
  now?: number;
  onSelect(verification: Verification): void;
}) {
  const classes = useStyles();
  const { stage, items, error, selected, now, onSelect } = props;
  const headingId = `stagecoach-verification-history-${stage.name}`;
  let body: React.ReactNode;
  if (error !== undefined) {
    body = (
      <Alert severity="warning">
        Could not load the history: {errorMessage(error)}
      </Alert>
    );
  } else if (!items) {
    body = <Progress />;
  } else {
    body = (
      <List dense disablePadding aria-labelledby={headingId}>
        {items.map(v => (
          <ListItem
            key={v.id}
            button
            selected={v.id === selected}
            aria-current={v.id === selected ? 'true' : undefined}
            className={classes.historyItem}
            onClick={() => onSelect(v)}
          >
            <Typography variant="body2" component="span">
              <PhaseStatus phase={v.phase} />
            </Typography>
            <span className={classes.alias}>{v.freight.alias}</span>
            <Typography
              variant="caption"
              color="textSecondary"
              className={classes.ellipsis}
            >
              {verificationSummary(v)}
            </Typography>
            <Typography variant="caption" color="textSecondary" noWrap>
              <time dateTime={v.createdAt} title={absoluteTime(v.createdAt)}>
                {timeAgo(v.createdAt, now)}
              </time>
            </Typography>
          </ListItem>
        ))}
      </List>
    );
  }
  return (
    <div className={classes.section}>
      <Heading id={headingId}>History</Heading>
      {body}
    </div>
  );
}

/**
 * A stage's verification in full (every metric with its measurements and job logs), and the
 * stage's earlier verifications to open instead. The stage's own newest verification is the
 * one the page keeps refreshing, so it is shown live.
 */
export function VerificationDialog(props: {
  project: string;
  stage: Stage;
  now?: number;
  onClose(): void;
}) {
  const { project, stage, now, onClose } = props;
  const api = useApi(stagecoachApiRef);
  const live = stage.verification;
  const [selectedId, setSelectedId] = useState(live?.id);
  const [opened, setOpened] = useState<Verification>();
  const [openError, setOpenError] = useState<unknown>();
  const [history, setHistory] = useState<Verification[]>();
  const [historyError, setHistoryError] = useState<unknown>();
  const titleId = `stagecoach-verification-${stage.name}`;

  // the history again whenever the newest verification changes (a new one, or its phase)
  useEffect(() => {
    let cancelled = false;
    api.listVerifications(project, stage.name, HISTORY_LIMIT).then(
      list => {
        if (cancelled) return;
        setHistory(list.items);
        setHistoryError(undefined);
      },
      e => !cancelled && setHistoryError(e),
    );
    return () => {
      cancelled = true;
    };
  }, [api, project, stage.name, live?.id, live?.phase]);

  const select = (v: Verification) => {
    setSelectedId(v.id);
    setOpenError(undefined);
    if (v.id === live?.id) return;
    // the list's copy first, then the verification as it is now
    setOpened(v);
    api.getVerification(project, v.id).then(
      full => setOpened(o => (o?.id === full.id ? full : o)),
      e => setOpenError(e),
    );
  };

  // an earlier one when one was opened, else the live one
  const shown =
    selectedId !== live?.id && opened?.id === selectedId ? opened : live;

  return (
    <Dialog
      open
      onClose={onClose}
      aria-labelledby={titleId}
      fullWidth
      maxWidth="md"
    >
      <DialogTitle id={titleId}>Verification in {stage.name}</DialogTitle>
      <DialogContent dividers>
        {openError !== undefined && (
          <Alert severity="warning">
            Could not refresh this verification: {errorMessage(openError)}
          </Alert>
        )}
        {shown ? (
          <Details verification={shown} now={now} />
        ) : (
          <Typography variant="body2" color="textSecondary">
            {stage.name} has not been verified yet.
          </Typography>
        )}
        <History
          stage={stage}
          items={history}
          error={historyError}
          selected={shown?.id ?? ''}
          now={now}
          onSelect={select}
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
