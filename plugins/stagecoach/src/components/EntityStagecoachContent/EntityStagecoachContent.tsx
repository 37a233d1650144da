import {
  CodeSnippet,
  EmptyState,
  InfoCard,
  MissingAnnotationEmptyState,
  Progress,
  ResponseErrorPanel,
  WarningPanel,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import IconButton from '@material-ui/core/IconButton';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import RefreshIcon from '@material-ui/icons/Refresh';
import {
  ANNOTATION_PROJECT,
  type Promotion,
  type Stage,
  type Verification,
} from '@stagecoach/plugin-stagecoach-common';
import { useState } from 'react';
import { errorMessage, errorStatus, stagecoachApiRef } from '../../api';
import { ArgoCdApps } from '../argocd/ArgoCdApps';
import { FreightCard } from '../freight/FreightCard';
import { PromoteDialog } from '../promotions/PromoteDialog';
import { StageCard } from '../stages/StageCard';
import { VerificationDialog } from '../verification/VerificationDialog';
import { newestPromotion, usePipeline } from '../shared/usePipeline';

const useStyles = makeStyles(theme => ({
  toolbar: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
  },
  project: { fontFamily: 'monospace' },
  live: {
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.75),
    marginLeft: 'auto',
    color: theme.palette.text.secondary,
  },
  dot: {
    width: 8,
    height: 8,
    borderRadius: '50%',
    backgroundColor: theme.palette.success?.main ?? theme.palette.primary.main,
  },
  apps: { padding: theme.spacing(0, 2, 1) },
}));

/** What is under way, for the "updating live" note. */
function liveText(promoting: boolean, verifying: boolean): string {
  if (promoting && verifying) return 'promotion and verification in progress';
  return promoting ? 'promotion in progress' : 'verification in progress';
}

function applyCommand(project: string): string {
  return [
    `curl -X PUT "$BACKSTAGE_URL/api/stagecoach/projects/${project}/manifests" \\`,
    `  -H "Authorization: Bearer $TOKEN" \\`,
    `  -H "Content-Type: application/yaml" \\`,
    `  --data-binary @stagecoach.yaml`,
  ].join('\n');
}

function ApplyManifestsHint(props: {
  project: string;
  title: string;
  detail?: string;
}) {
  const { project, title, detail } = props;
  return (
    <EmptyState
      missing="content"
      title={title}
      description={
        <>
          {detail && <>{detail}. </>}
          Apply the project's Warehouse and Stage manifests (Kargo format, with{' '}
          <code>metadata.namespace: {project}</code>) with{' '}
          <code>PUT /api/stagecoach/projects/{project}/manifests</code>; the
          stages appear here once they are stored.
        </>
      }
      action={
        <CodeSnippet
          language="bash"
          text={applyCommand(project)}
          showCopyCodeButton
        />
      }
    />
  );
}

/** The entity page's Promotions tab. */
export function EntityStagecoachContent() {
  const classes = useStyles();
  const { entity } = useEntity();
  const alertApi = useApi(alertApiRef);
  const stagecoachApi = useApi(stagecoachApiRef);
  const project = entity.metadata.annotations?.[ANNOTATION_PROJECT];
  const {
    pipeline,
    error,
    loading,
    created,
    live,
    verifying,
    refresh,
    addPromotion,
    updateStage,
  } = usePipeline({
    kind: entity.kind,
    namespace: entity.metadata.namespace ?? 'default',
    name: entity.metadata.name,
  });
  const [promoteTo, setPromoteTo] = useState<Stage>();
  /** The stage whose verification details are open. */
  const [detailsOf, setDetailsOf] = useState<string>();

  if (!project) {
    return <MissingAnnotationEmptyState annotation={ANNOTATION_PROJECT} />;
  }
  if (!pipeline) {
    if (loading) return <Progress />;
    if (errorStatus(error) === 404) {
      return (
        <ApplyManifestsHint
          project={project}
          title={`No Stagecoach pipeline for ${entity.metadata.name} yet`}
          detail={errorMessage(error)}
        />
      );
    }
    return (
      <ResponseErrorPanel
        title="Could not load the promotion pipeline"
        error={error instanceof Error ? error : new Error(errorMessage(error))}
      />
    );
  }
  if (!pipeline.stages.length) {
    return (
      <ApplyManifestsHint
        project={pipeline.project}
        title={`Project ${pipeline.project} has no stages yet`}
      />
    );
  }

  const now = Date.now();
  const onPromoted = (promotion: Promotion) => {
    setPromoteTo(undefined);
    addPromotion(promotion);
    alertApi.post({
      message: `Promotion of ${promotion.freight.alias} to ${promotion.stage} queued`,
      severity: 'success',
      display: 'transient',
    });
  };

  const onAbort = async (promotion: Promotion) => {
    try {
      const result = await stagecoachApi.abortPromotion(
        pipeline.project,
        promotion.id,
      );
      addPromotion(result);
      alertApi.post({
        message:
          result.phase === 'Aborted'
            ? `Promotion of ${result.freight.alias} to ${result.stage} aborted`
            : `Aborting the promotion of ${result.freight.alias} to ${result.stage}: its running step is being stopped`,
        severity: 'info',
        display: 'transient',
      });
    } catch (e) {
      alertApi.post({
        message: `Could not abort: ${errorMessage(e)}`,
        severity: 'error',
      });
    }
  };

  const onResumeAutoPromotion = async (stage: Stage, origin: string) => {
    try {
      updateStage(
        await stagecoachApi.releaseAutoPromotionHold(
          pipeline.project,
          stage.name,
          origin,
        ),
      );
      alertApi.post({
        message: `Auto-promotion of ${stage.name} resumed`,
        severity: 'success',
        display: 'transient',
      });
    } catch (e) {
      alertApi.post({
        message: `Could not resume auto-promotion of ${
          stage.name
        }: ${errorMessage(e)}`,
        severity: 'error',
      });
    }
  };

  const withVerification = (stage: Stage, verification: Verification) =>
    updateStage({ ...stage, verification });

  const onReverify = async (stage: Stage) => {
    try {
      const verification = await stagecoachApi.reverify(
        pipeline.project,
        stage.name,
      );
      withVerification(stage, verification);
      alertApi.post({
        message: `Verification of ${verification.freight.alias} in ${stage.name} started`,
        severity: 'success',
        display: 'transient',
      });
    } catch (e) {
      alertApi.post({
        message: `Could not verify ${stage.name} again: ${errorMessage(e)}`,
        severity: 'error',
      });
    }
  };

  const onAbortVerification = async (
    stage: Stage,
    verification: Verification,
  ) => {
    try {
      const result = await stagecoachApi.abortVerification(
        pipeline.project,
        stage.name,
      );
      withVerification(stage, result);
      alertApi.post({
        message:
          result.phase === 'Aborted'
            ? `Verification of ${result.freight.alias} in ${stage.name} aborted`
            : `Aborting the verification of ${result.freight.alias} in ${stage.name}: its running measurements are being stopped`,
        severity: 'info',
        display: 'transient',
      });
    } catch (e) {
      alertApi.post({
        message: `Could not abort the verification of ${
          verification.freight.alias
        } in ${stage.name}: ${errorMessage(e)}`,
        severity: 'error',
      });
    }
  };

  const apps = pipeline.apps ?? [];
  const stageNames = new Set(pipeline.stages.map(s => s.name));
  const undriven = apps.filter(a => !a.stage || !stageNames.has(a.stage));
  const detailsStage = detailsOf
    ? pipeline.stages.find(s => s.name === detailsOf)
    : undefined;
  const updating = live || verifying;

  return (
    <>
      <Grid container spacing={3}>
        {error !== undefined && (
          <Grid item xs={12}>
            <WarningPanel
              title="Could not refresh the pipeline; showing what was loaded before"
              message={errorMessage(error)}
            />
          </Grid>
        )}
        {(pipeline.warehouses ?? [])
          .filter(w => w.status.lastError)
          .map(w => (
            <Grid item xs={12} key={`discovery-${w.name}`}>
              <WarningPanel
                title={`Discovery for warehouse ${w.name} needs attention`}
                message={w.status.lastError}
              />
            </Grid>
          ))}
        {pipeline.appsError && (
          <Grid item xs={12}>
            <WarningPanel
              title="Could not read the Argo CD apps"
              message={pipeline.appsError}
            />
          </Grid>
        )}
        <Grid item xs={12}>
          <Box className={classes.toolbar}>
            <Typography variant="h5" component="h2">
              Stages
            </Typography>
            <Typography variant="body2" color="textSecondary">
              project{' '}
              <span className={classes.project}>{pipeline.project}</span>
            </Typography>
            {updating && (
              <Typography variant="caption" className={classes.live}>
                <span className={classes.dot} aria-hidden />
                {liveText(live, verifying)}, updating live
              </Typography>
            )}
            <IconButton
              aria-label="Refresh"
              title="Refresh"
              size="small"
              onClick={refresh}
              style={updating ? undefined : { marginLeft: 'auto' }}
            >
              <RefreshIcon fontSize="small" />
            </IconButton>
          </Box>
        </Grid>
        {pipeline.stages.map(stage => (
          <Grid item xs={12} sm={6} lg={4} key={stage.name}>
            <StageCard
              stage={stage}
              freight={pipeline.freight}
              promotion={newestPromotion(
                stage.lastPromotion,
                created[stage.name],
              )}
              now={now}
              onPromote={setPromoteTo}
              onAbort={onAbort}
              onResumeAutoPromotion={onResumeAutoPromotion}
              apps={apps.filter(a => a.stage === stage.name)}
              onVerificationDetails={s => setDetailsOf(s.name)}
              onReverify={onReverify}
              onAbortVerification={onAbortVerification}
            />
          </Grid>
        ))}
        {undriven.length > 0 && (
          <Grid item xs={12}>
            <InfoCard
              title="Other Argo CD apps"
              subheader={`Not driven by a stage of ${pipeline.project}`}
              noPadding
            >
              <Box className={classes.apps}>
                <ArgoCdApps
                  apps={undriven}
                  aria-label="Argo CD apps not driven by a stage"
                />
              </Box>
            </InfoCard>
          </Grid>
        )}
        <Grid item xs={12}>
          <FreightCard
            freight={pipeline.freight}
            stageOrder={pipeline.stages.map(s => s.name)}
            now={now}
          />
        </Grid>
      </Grid>
      {promoteTo && (
        <PromoteDialog
          project={pipeline.project}
          stage={promoteTo}
          onClose={() => setPromoteTo(undefined)}
          onPromoted={onPromoted}
          onApproved={refresh}
        />
      )}
      {detailsStage && (
        <VerificationDialog
          project={pipeline.project}
          stage={detailsStage}
          now={now}
          onClose={() => setDetailsOf(undefined)}
        />
      )}
    </>
  );
}
