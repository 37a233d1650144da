import { Link } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type {
  ArgoCdApp,
  ArgoCdAppHealth,
} from '@stagecoach/plugin-stagecoach-common';
import { PhaseStatus } from '../shared/PhaseStatus';
import { httpUrl } from '../shared/format';
import { appKey } from './appKey';

const useStyles = makeStyles(theme => ({
  list: { listStyle: 'none', margin: 0, padding: 0 },
  app: {
    display: 'grid',
    gridTemplateColumns: 'minmax(0, 1fr) auto auto',
    alignItems: 'baseline',
    columnGap: theme.spacing(1.5),
    padding: theme.spacing(0.5, 0),
    borderTop: `1px solid ${theme.palette.divider}`,
    '&:first-child': { borderTop: 'none' },
  },
  name: {
    fontWeight: 500,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  },
  sync: { whiteSpace: 'nowrap' },
  outOfSync: {
    color: theme.palette.warning?.main ?? theme.palette.text.secondary,
  },
  detail: {
    gridColumn: '1 / -1',
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-word',
  },
  bad: { color: theme.palette.error.main },
}));

type App = ArgoCdApp & Partial<Pick<ArgoCdAppHealth, 'status' | 'reason'>>;

/** Where the app lives, for its tooltip: `argocd/guestbook-dev on cluster prod-eu`. */
function whereTitle(app: App): string {
  const revisions = app.revisions?.length
    ? `; synced to ${app.revisions.join(', ')}`
    : '';
  return `${app.namespace}/${app.name}${
    app.cluster ? ` on cluster ${app.cluster}` : ''
  }${revisions}`;
}

/**
 * What to say under an app that is not fine: Stagecoach's reason when it judged the app for
 * a stage's health, else Argo CD's own health or sync-operation message.
 */
function detailOf(app: App): string | undefined {
  if (app.status) return app.status === 'Healthy' ? undefined : app.reason;
  if (app.health && app.health !== 'Healthy' && app.healthMessage) {
    return app.healthMessage;
  }
  const op = app.operation;
  if (op && op.phase !== 'Succeeded' && op.phase !== 'Running' && op.message) {
    return `sync ${op.phase}: ${op.message}`;
  }
  return undefined;
}

/** Argo CD apps, one line each: name (linked to Argo CD), sync status and health. */
export function ArgoCdApps(props: {
  apps: App[];
  'aria-label': string;
  /** What is already said above the list (the stage's health reason): not repeated per app. */
  said?: string;
}) {
  const classes = useStyles();
  const { said } = props;
  return (
    <ul className={classes.list} aria-label={props['aria-label']}>
      {props.apps.map(app => {
        const url = httpUrl(app.url);
        const own = detailOf(app);
        const detail = own && !said?.includes(own) ? own : undefined;
        const bad = app.status === 'Degraded' || app.health === 'Degraded';
        return (
          <li key={appKey(app)} className={classes.app}>
            <Typography
              variant="body2"
              component="span"
              className={classes.name}
              title={whereTitle(app)}
            >
              {url ? (
                <Link to={url} externalLinkIcon>
                  {app.name}
                </Link>
              ) : (
                app.name
              )}
            </Typography>
            <Typography
              variant="caption"
              color={app.sync === 'OutOfSync' ? undefined : 'textSecondary'}
              className={`${classes.sync} ${
                app.sync === 'OutOfSync' ? classes.outOfSync : ''
              }`}
            >
              {app.sync ?? 'sync unknown'}
            </Typography>
            <Typography variant="caption" component="span">
              <PhaseStatus phase={app.health ?? 'Unknown'} />
            </Typography>
            {detail && (
              <Typography
                variant="caption"
                color={bad ? undefined : 'textSecondary'}
                className={`${classes.detail} ${bad ? classes.bad : ''}`}
              >
                {detail}
              </Typography>
            )}
          </li>
        );
      })}
    </ul>
  );
}
