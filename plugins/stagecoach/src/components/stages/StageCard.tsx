import Card from '@material-ui/core/Card';
import CardContent from '@material-ui/core/CardContent';
import CardHeader from '@material-ui/core/CardHeader';
import Chip from '@material-ui/core/Chip';
import Divider from '@material-ui/core/Divider';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import {
  stagecoachPromotePermission,
  type ArgoCdApp,
  type Freight,
  type Promotion,
  type Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { FreightVersions } from '../freight/FreightVersions';
import { PermittedButton } from '../permissions/PermittedButton';
import { PromotionSummary } from '../promotions/PromotionSummary';
import { DeepLinks } from '../shared/DeepLinks';
import { sourcesLabel } from '../shared/format';
import { VerificationSummary } from '../verification/VerificationSummary';
import { HoldNotice } from './HoldNotice';
import { useStageHighlight } from './StageHighlight';
import { StageHealth, stageApps } from './StageHealth';
import { StageSection } from './StageSection';
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
  alias: {
    fontFamily: 'monospace',
    fontWeight: 600,
    marginBottom: theme.spacing(0.5),
  },
  highlighted: {
    borderColor: theme.palette.primary.main,
    boxShadow: `0 0 0 2px ${theme.palette.primary.main}`,
    outline: 'none',
  },
  subheader: {
    display: 'flex',
    alignItems: 'center',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
}));

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
  const { highlighted, ref } = useStageHighlight<HTMLElement>(stage.name);
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
      className={
        highlighted ? `${classes.card} ${classes.highlighted}` : classes.card
      }
      data-testid={`stage-${stage.name}`}
      component="article"
      aria-label={`Stage ${stage.name}`}
      aria-current={highlighted ? 'true' : undefined}
      tabIndex={-1}
      ref={ref}
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
        <StageSection title="Current freight">
          {stage.currentFreight ? (
            <>
              <Typography variant="body1" className={classes.alias}>
                {stage.currentFreight.alias}
              </Typography>
              {current && <FreightVersions freight={current} />}
              {current && (
                <DeepLinks
                  links={current.links}
                  aria-label={`Links of freight ${current.alias}`}
                />
              )}
            </>
          ) : (
            <Typography variant="body2" color="textSecondary">
              Nothing promoted here yet.
            </Typography>
          )}
        </StageSection>
        {(stage.links ?? []).length > 0 && (
          <StageSection title="Links">
            <DeepLinks
              links={stage.links}
              aria-label={`Links of stage ${stage.name}`}
            />
          </StageSection>
        )}
        {showHealth && <StageHealth stage={stage} apps={apps} now={now} />}
        {showVerification && (
          <StageSection title="Verification">
            <VerificationSummary
              stage={stage}
              now={now}
              busy={actions.isVerificationBusy(stage.name)}
              onDetails={actions.openVerificationDetails}
              onReverify={actions.reverify}
              onAbort={actions.abortVerification}
            />
          </StageSection>
        )}
        <StageSection title="Last promotion">
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
        </StageSection>
      </CardContent>
    </Card>
  );
}
