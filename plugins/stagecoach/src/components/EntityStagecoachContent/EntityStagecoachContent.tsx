import {
  CodeSnippet,
  EmptyState,
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
} from '@stagecoach/plugin-stagecoach-common';
import { useState } from 'react';
import { errorMessage, errorStatus, stagecoachApiRef } from '../../api';
import { FreightCard } from '../FreightCard';
import { PromoteDialog } from '../PromoteDialog';
import { StageCard } from '../StageCard';
import { newestPromotion, usePipeline } from '../usePipeline';

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
}));

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
    refresh,
    addPromotion,
    updateStage,
  } = usePipeline({
    kind: entity.kind,
    namespace: entity.metadata.namespace ?? 'default',
    name: entity.metadata.name,
  });
  const [promoteTo, setPromoteTo] = useState<Stage>();

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
        <Grid item xs={12}>
          <Box className={classes.toolbar}>
            <Typography variant="h5" component="h2">
              Stages
            </Typography>
            <Typography variant="body2" color="textSecondary">
              project{' '}
              <span className={classes.project}>{pipeline.project}</span>
            </Typography>
            {live && (
              <Typography variant="caption" className={classes.live}>
                <span className={classes.dot} aria-hidden />
                promotion in progress, updating live
              </Typography>
            )}
            <IconButton
              aria-label="Refresh"
              title="Refresh"
              size="small"
              onClick={refresh}
              style={live ? undefined : { marginLeft: 'auto' }}
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
            />
          </Grid>
        ))}
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
    </>
  );
}
