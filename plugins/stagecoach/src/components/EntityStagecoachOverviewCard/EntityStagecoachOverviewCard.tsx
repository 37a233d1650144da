import {
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
  type InfoCardVariants,
} from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import {
  entityRouteParams,
  entityRouteRef,
  MissingAnnotationEmptyState,
  useEntity,
} from '@backstage/plugin-catalog-react';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import {
  ANNOTATION_PROJECT,
  type EntityPipeline,
  type Freight,
  type Stage,
} from '@stagecoach/plugin-stagecoach-common';
import type { ReactNode } from 'react';
import { errorMessage, errorStatus } from '../../api';
import { DataTable } from '../shared/DataTable';
import { PhaseStatus } from '../shared/PhaseStatus';
import { RunTimes } from '../shared/RunTimes';
import { shortVersions } from '../shared/format';
import { usePipeline } from '../shared/usePipeline';

const useStyles = makeStyles(theme => ({
  stage: { fontWeight: theme.typography.fontWeightMedium as number },
  alias: { fontFamily: 'monospace', fontWeight: 600 },
  versions: {
    display: 'flex',
    flexWrap: 'wrap',
    columnGap: theme.spacing(1),
    fontFamily: 'monospace',
  },
  none: { color: theme.palette.text.secondary },
  message: { padding: theme.spacing(2), wordBreak: 'break-word' },
}));

/** Props of {@link EntityStagecoachOverviewCard}. */
export interface EntityStagecoachOverviewCardProps {
  /**
   * Where the entity's Stagecoach tab is, under the entity's page: the `path` its
   * `EntityLayout.Route` (or the new frontend system's entity content) has. `stagecoach` unless
   * the app mounts it elsewhere.
   */
  tabPath?: string;
  /** The InfoCard variant: `gridItem` makes the card as tall as its grid row. */
  variant?: InfoCardVariants;
}

interface StageRow {
  id: string;
  stage: Stage;
  /** The stage's current freight, when the pipeline carries it. */
  current?: Freight;
}

function Dash(props: { title?: string }) {
  const classes = useStyles();
  return (
    <Typography variant="body2" component="span" className={classes.none}>
      <span title={props.title}>—</span>
    </Typography>
  );
}

/** The alias of what the stage runs, then its artifacts' short versions (full names as tooltips). */
function RunningVersion(props: { row: StageRow }) {
  const classes = useStyles();
  const { stage, current } = props.row;
  if (!stage.currentFreight) return <Dash title="Nothing promoted here yet" />;
  const versions = current ? shortVersions(current) : [];
  return (
    <div>
      <Typography variant="body2" className={classes.alias}>
        {stage.currentFreight.alias}
      </Typography>
      {versions.length > 0 && (
        <Typography
          variant="caption"
          component="div"
          color="textSecondary"
          className={classes.versions}
          aria-label={`Versions in ${stage.name}`}
        >
          {versions.map((v, i) => (
            <span key={`${i}:${v.label}`} title={v.label}>
              {v.version}
            </span>
          ))}
        </Typography>
      )}
    </div>
  );
}

function Health(props: { stage: Stage }) {
  const health = props.stage.health;
  if (!health) return <Dash title="Not checked yet" />;
  return (
    <Typography variant="body2" component="span" title={health.reason}>
      <PhaseStatus phase={health.status} />
    </Typography>
  );
}

/**
 * The stage's newest verification; a stage that verifies by health alone has none, and then
 * its current freight says whether it was verified there.
 */
function Verification(props: { row: StageRow }) {
  const { stage, current } = props.row;
  const v = stage.verification;
  if (v) {
    return (
      <Typography
        variant="body2"
        component="span"
        title={[`of ${v.freight.alias}`, v.message].filter(Boolean).join(': ')}
      >
        <PhaseStatus phase={v.phase} />
      </Typography>
    );
  }
  if (current?.verifiedIn.includes(stage.name)) {
    return (
      <Typography
        variant="body2"
        component="span"
        title={`${current.alias} is verified in ${stage.name}`}
      >
        <PhaseStatus phase="Successful" label="Verified" />
      </Typography>
    );
  }
  return <Dash title="Not verified yet" />;
}

function LastPromotion(props: { stage: Stage }) {
  const classes = useStyles();
  const p = props.stage.lastPromotion;
  if (!p) return <Dash title="No promotion yet" />;
  return (
    <div>
      <Typography variant="body2" component="div" title={p.message}>
        <PhaseStatus phase={p.phase} />{' '}
        <span className={classes.alias}>{p.freight.alias}</span>
      </Typography>
      <RunTimes run={p} />
    </div>
  );
}

function StageTable(props: { pipeline: EntityPipeline }) {
  const classes = useStyles();
  const { pipeline } = props;
  const freight = new Map(pipeline.freight.map(f => [f.id, f]));
  const rows: StageRow[] = pipeline.stages.map(stage => ({
    id: stage.name,
    stage,
    current: stage.currentFreight
      ? freight.get(stage.currentFreight.id)
      : undefined,
  }));
  return (
    <DataTable<StageRow>
      aria-label={`Stages of ${pipeline.project}`}
      rowTestId={row => `overview-stage-${row.stage.name}`}
      data={rows}
      columns={[
        {
          title: 'Stage',
          render: row => (
            <Typography variant="body2" className={classes.stage}>
              {row.stage.name}
            </Typography>
          ),
        },
        { title: 'Running', render: row => <RunningVersion row={row} /> },
        { title: 'Health', render: row => <Health stage={row.stage} /> },
        { title: 'Verification', render: row => <Verification row={row} /> },
        {
          title: 'Last promotion',
          render: row => <LastPromotion stage={row.stage} />,
        },
      ]}
    />
  );
}

function Message(props: { children: ReactNode; alert?: boolean }) {
  const classes = useStyles();
  return (
    <Typography
      variant="body2"
      className={classes.message}
      color={props.alert ? 'error' : 'textSecondary'}
      role={props.alert ? 'alert' : undefined}
    >
      {props.children}
    </Typography>
  );
}

/** The card's content once the entity names a project. */
function OverviewBody(props: { project: string; tabLink: string }) {
  const { project, tabLink } = props;
  const { entity } = useEntity();
  const { pipeline, error, loading } = usePipeline({
    kind: entity.kind,
    namespace: entity.metadata.namespace ?? 'default',
    name: entity.metadata.name,
  });

  if (!pipeline) {
    if (loading) return <Progress />;
    const status = errorStatus(error);
    if (status === 403) {
      return (
        <Message alert>
          You may not see the pipeline of project {project}:{' '}
          {errorMessage(error)}
        </Message>
      );
    }
    if (status === 404) {
      return (
        <Message>
          No Stagecoach pipeline for {entity.metadata.name} yet (
          {errorMessage(error)}). The <Link to={tabLink}>Promotions tab</Link>{' '}
          says how to apply one.
        </Message>
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
      <Message>
        Project {pipeline.project} has no stages yet. The{' '}
        <Link to={tabLink}>Promotions tab</Link> says how to apply them.
      </Message>
    );
  }
  return (
    <>
      {error !== undefined && (
        <Message alert>
          Could not refresh the pipeline; showing what was loaded before:{' '}
          {errorMessage(error)}
        </Message>
      )}
      <StageTable pipeline={pipeline} />
    </>
  );
}

/**
 * A card for the entity's Overview tab: per stage, in pipeline order, the freight it runs
 * (alias and artifact versions), its health and verification, its last promotion; with a
 * link to the entity's Stagecoach tab.
 */
export function EntityStagecoachOverviewCard(
  props: EntityStagecoachOverviewCardProps,
) {
  const { tabPath = 'stagecoach', variant } = props;
  const { entity } = useEntity();
  const entityRoute = useRouteRef(entityRouteRef);
  const project = entity.metadata.annotations?.[ANNOTATION_PROJECT];
  const tabLink = `${entityRoute(entityRouteParams(entity))}/${tabPath.replace(
    /^\/+/,
    '',
  )}`;

  if (!project) {
    return (
      <InfoCard title="Promotions" variant={variant}>
        <MissingAnnotationEmptyState annotation={ANNOTATION_PROJECT} />
      </InfoCard>
    );
  }
  return (
    <InfoCard
      title="Promotions"
      subheader={`Stagecoach project ${project}`}
      variant={variant}
      noPadding
      deepLink={{ title: 'Open the Promotions tab', link: tabLink }}
    >
      <OverviewBody project={project} tabLink={tabLink} />
    </InfoCard>
  );
}
