import {
  CodeSnippet,
  EmptyState,
  InfoCard,
  MissingAnnotationEmptyState,
  Progress,
  ResponseErrorPanel,
  WarningPanel,
} from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import IconButton from '@material-ui/core/IconButton';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import RefreshIcon from '@material-ui/icons/Refresh';
import { ANNOTATION_PROJECT } from '@stagecoach/plugin-stagecoach-common';
import { useCallback, useState } from 'react';
import { errorMessage, errorStatus } from '../../api';
import { ArgoCdApps } from '../argocd/ArgoCdApps';
import { ProjectCredentials } from '../credentials/ProjectCredentials';
import { FreightCard } from '../freight/FreightCard';
import { FreightTimeline } from '../freight/FreightTimeline';
import { PipelineGraph } from '../graph/PipelineGraph';
import { usePipeline } from '../shared/usePipeline';
import {
  StageHighlightContext,
  type StageHighlight,
} from '../stages/StageHighlight';
import { StageList } from '../stages/StageList';

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
  const [highlight, setHighlight] = useState<StageHighlight>({ seq: 0 });
  const selectStage = useCallback(
    (stage: string) => setHighlight(h => ({ stage, seq: h.seq + 1 })),
    [],
  );

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
  const apps = pipeline.apps ?? [];
  const stageNames = new Set(pipeline.stages.map(s => s.name));
  const undriven = apps.filter(a => !a.stage || !stageNames.has(a.stage));
  const updating = live || verifying;

  return (
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
            project <span className={classes.project}>{pipeline.project}</span>
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
      <Grid item xs={12}>
        <PipelineGraph pipeline={pipeline} onSelect={selectStage} />
      </Grid>
      <StageHighlightContext.Provider value={highlight}>
        <StageList
          pipeline={pipeline}
          created={created}
          apps={apps}
          now={now}
          reload={{ refresh, addPromotion, updateStage }}
        />
      </StageHighlightContext.Provider>
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
        <FreightTimeline
          pipeline={pipeline}
          now={now}
          reload={{ refresh, addPromotion, updateStage }}
        />
      </Grid>
      <Grid item xs={12}>
        <FreightCard
          freight={pipeline.freight}
          stageOrder={pipeline.stages.map(s => s.name)}
          now={now}
          project={pipeline.project}
          warehouses={pipeline.warehouses?.map(w => w.name)}
        />
      </Grid>
      <Grid item xs={12}>
        <ProjectCredentials project={pipeline.project} now={now} />
      </Grid>
    </Grid>
  );
}
