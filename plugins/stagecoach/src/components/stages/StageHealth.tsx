import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { ArgoCdApp, Stage } from '@stagecoach/plugin-stagecoach-common';
import { ArgoCdApps } from '../argocd/ArgoCdApps';
import { appKey } from '../argocd/appKey';
import { PhaseStatus } from '../shared/PhaseStatus';
import { absoluteTime, timeAgo } from '../shared/format';
import { StageSection } from './StageSection';

const useStyles = makeStyles(theme => ({
  healthLine: {
    display: 'flex',
    alignItems: 'baseline',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  reason: { wordBreak: 'break-word' },
  degraded: { color: theme.palette.error.main },
  apps: { marginTop: theme.spacing(0.5) },
}));

/**
 * The apps the stage's last promotion touched (with Stagecoach's verdict on each), then the
 * entity's other apps this stage drives.
 */
export function stageApps(stage: Stage, driven: ArgoCdApp[]): ArgoCdApp[] {
  const checked = stage.health?.apps ?? [];
  const seen = new Set(checked.map(appKey));
  return [...checked, ...driven.filter(a => !seen.has(appKey(a)))];
}

/**
 * Whether what the stage runs is healthy, and why not: the reason is visible unless all is
 * well (then it is the status's tooltip).
 */
export function StageHealth(props: {
  stage: Stage;
  apps: ArgoCdApp[];
  now?: number;
}) {
  const classes = useStyles();
  const { stage, apps, now } = props;
  const health = stage.health;
  return (
    <StageSection title="Health">
      {health ? (
        <>
          <div className={classes.healthLine}>
            <Typography
              variant="body2"
              component="span"
              title={health.status === 'Healthy' ? health.reason : undefined}
            >
              <PhaseStatus phase={health.status} />
            </Typography>
            <Typography variant="caption" color="textSecondary">
              <time
                dateTime={health.checkedAt}
                title={absoluteTime(health.checkedAt)}
              >
                checked {timeAgo(health.checkedAt, now)}
              </time>
            </Typography>
          </div>
          {health.status !== 'Healthy' && health.reason && (
            <Typography
              variant="body2"
              className={`${classes.reason} ${
                health.status === 'Degraded' ? classes.degraded : ''
              }`}
              color={health.status === 'Degraded' ? undefined : 'textSecondary'}
            >
              {health.reason}
            </Typography>
          )}
        </>
      ) : (
        <Typography variant="body2" color="textSecondary">
          Not checked yet.
        </Typography>
      )}
      {apps.length > 0 && (
        <div className={classes.apps}>
          <ArgoCdApps
            apps={apps}
            aria-label={`Argo CD apps of ${stage.name}`}
            said={health?.status === 'Healthy' ? undefined : health?.reason}
          />
        </div>
      )}
    </StageSection>
  );
}
