import Card from '@material-ui/core/Card';
import CardContent from '@material-ui/core/CardContent';
import CardHeader from '@material-ui/core/CardHeader';
import Chip from '@material-ui/core/Chip';
import Divider from '@material-ui/core/Divider';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import {
  stagecoachAutoPromotionHoldReleasePermission,
  stagecoachPromotePermission,
  type ArgoCdApp,
  type AutoPromotionHold,
  type Freight,
  type Promotion,
  type Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { ArgoCdApps } from '../argocd/ArgoCdApps';
import { FreightVersions } from '../freight/FreightVersions';
import { PhaseStatus } from '../shared/PhaseStatus';
import { PromotionSummary } from '../promotions/PromotionSummary';
import { VerificationSummary } from '../verification/VerificationSummary';
import { PermittedButton } from '../permissions/PermittedButton';
import { absoluteTime, sourcesLabel, timeAgo } from '../shared/format';
import { appKey } from '../argocd/appKey';
import type { StageActions } from './useStageActions';

const useStyles = makeStyles(theme => ({
  card: {
    height: '100%',
    display: 'flex',
    flexDirection: 'column',
  },
  header: {
    paddingBottom: theme.spacing(1),
  },
  title: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
  },
  action: {
    alignSelf: 'center',
    marginTop: 0,
    marginRight: 0,
  },
  content: {
    flexGrow: 1,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(2),
  },
  label: {
    display: 'block',
    marginBottom: theme.spacing(0.5),
    color: theme.palette.text.secondary,
    fontWeight: 600,
    letterSpacing: '0.06em',
    textTransform: 'uppercase',
  },
  alias: {
    fontFamily: 'monospace',
    fontWeight: 600,
    marginBottom: theme.spacing(0.5),
  },
  subheader: {
    display: 'flex',
    alignItems: 'center',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  hold: { wordBreak: 'break-word' },
  holdBy: { display: 'block', marginTop: theme.spacing(0.5) },
  resume: { marginTop: theme.spacing(1), marginLeft: theme.spacing(-1) },
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

function Section(props: { title: string; children: React.ReactNode }) {
  const classes = useStyles();
  return (
    <section aria-label={props.title}>
      <Typography variant="overline" component="h4" className={classes.label}>
        {props.title}
      </Typography>
      {props.children}
    </section>
  );
}

/** A rollback (or other manual promotion) that pauses auto-promotion, and the way to resume it. */
function HoldNotice(props: {
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

/**
 * The apps the stage's last promotion touched (with Stagecoach's verdict on each), then the
 * entity's other apps this stage drives.
 */
function stageApps(stage: Stage, driven: ArgoCdApp[]): ArgoCdApp[] {
  const checked = stage.health?.apps ?? [];
  const seen = new Set(checked.map(appKey));
  return [...checked, ...driven.filter(a => !seen.has(appKey(a)))];
}

/**
 * Whether what the stage runs is healthy, and why not: the reason is visible unless all is
 * well (then it is the status's tooltip).
 */
function HealthSection(props: {
  stage: Stage;
  apps: ArgoCdApp[];
  now?: number;
}) {
  const classes = useStyles();
  const { stage, apps, now } = props;
  const health = stage.health;
  return (
    <Section title="Health">
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
    </Section>
  );
}

/**
 * One stage: what it holds, where its freight comes from, whether it is healthy (and its Argo
 * CD apps), its verification and its last promotion.
 */
export function StageCard(props: {
  stage: Stage;
  /** The pipeline's freight, to show the versions of the stage's current freight. */
  freight: Freight[];
  /** The promotion to show; defaults to the stage's last one. */
  promotion?: Promotion;
  now?: number;
  /** The entity's Argo CD apps this stage drives (their authorized-stage annotation). */
  apps?: ArgoCdApp[];
  /** What the card's buttons do (useStageActions). */
  actions: StageActions;
}) {
  const classes = useStyles();
  const { stage, now, actions } = props;
  const promotion = props.promotion ?? stage.lastPromotion;
  const current = stage.currentFreight
    ? props.freight.find(f => f.id === stage.currentFreight!.id)
    : undefined;
  const holds = stage.autoPromotionHolds ?? [];
  const apps = stageApps(stage, props.apps ?? []);
  // nothing to say about the health or verification of a stage nothing was promoted to
  const showHealth = !!stage.health || apps.length > 0;
  const showVerification =
    !!stage.verification ||
    (!!stage.currentFreight && stage.stepCount > 0) ||
    (stage.analysisTemplates ?? []).length > 0;

  return (
    <Card
      variant="outlined"
      className={classes.card}
      data-testid={`stage-${stage.name}`}
      component="article"
      aria-label={`Stage ${stage.name}`}
    >
      <CardHeader
        className={classes.header}
        classes={{ action: classes.action }}
        disableTypography
        title={
          <Typography variant="h6" component="h3" className={classes.title}>
            {stage.name}
            {stage.stepCount === 0 && (
              <Chip component="span" size="small" label="control flow" />
            )}
          </Typography>
        }
        subheader={
          <div className={classes.subheader}>
            <Typography variant="body2" color="textSecondary">
              {sourcesLabel(stage.requestedFreight)}
            </Typography>
            {stage.autoPromotionEnabled && (
              <Tooltip
                title={
                  stage.autoPromotionPolicy
                    ? `Auto-promotion enabled by ${stage.autoPromotionPolicy}`
                    : 'Auto-promotion enabled'
                }
              >
                <Chip size="small" variant="outlined" label="auto-promotion" />
              </Tooltip>
            )}
          </div>
        }
        action={
          <PermittedButton
            permission={stagecoachPromotePermission}
            project={stage.project}
            stage={stage.name}
            activity={`promoting to ${stage.name}`}
            variant="outlined"
            color="primary"
            size="small"
            aria-label={`Promote to ${stage.name}`}
            onClick={() => actions.openPromote(stage)}
          >
            Promote
          </PermittedButton>
        }
      />
      <Divider />
      <CardContent className={classes.content}>
        {holds.map(hold => (
          <HoldNotice
            key={hold.origin.name}
            stage={stage}
            hold={hold}
            named={holds.length > 1}
            now={now}
            actions={actions}
          />
        ))}
        <Section title="Current freight">
          {stage.currentFreight ? (
            <>
              <Typography variant="body1" className={classes.alias}>
                {stage.currentFreight.alias}
              </Typography>
              {current && <FreightVersions freight={current} />}
            </>
          ) : (
            <Typography variant="body2" color="textSecondary">
              Nothing promoted here yet.
            </Typography>
          )}
        </Section>
        {showHealth && <HealthSection stage={stage} apps={apps} now={now} />}
        {showVerification && (
          <Section title="Verification">
            <VerificationSummary
              stage={stage}
              now={now}
              busy={actions.isVerificationBusy(stage.name)}
              onDetails={actions.openVerificationDetails}
              onReverify={actions.reverify}
              onAbort={actions.abortVerification}
            />
          </Section>
        )}
        <Section title="Last promotion">
          {promotion ? (
            <PromotionSummary
              promotion={promotion}
              now={now}
              onAbort={actions.abortPromotion}
            />
          ) : (
            <Typography variant="body2" color="textSecondary">
              No promotions yet.
            </Typography>
          )}
        </Section>
      </CardContent>
    </Card>
  );
}
