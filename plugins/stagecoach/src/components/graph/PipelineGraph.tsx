import {
  DependencyGraph,
  DependencyGraphTypes,
} from '@backstage/core-components';
import Accordion from '@material-ui/core/Accordion';
import AccordionDetails from '@material-ui/core/AccordionDetails';
import AccordionSummary from '@material-ui/core/AccordionSummary';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import ExpandMoreIcon from '@material-ui/icons/ExpandMore';
import type { EntityPipeline } from '@stagecoach/plugin-stagecoach-common';
import { memo, useCallback, useMemo, type KeyboardEvent } from 'react';
import { PhaseStatus } from '../shared/PhaseStatus';
import type { PipelineNode, StageNode, WarehouseNode } from './pipelineGraph';
import { usePipelineGraph } from './usePipelineGraph';

/** Node sizes are fixed, so the layout never waits on measuring text. */
const STAGE_SIZE = { width: 220, height: 96 };
const WAREHOUSE_SIZE = { width: 180, height: 60 };

const useStyles = makeStyles(theme => ({
  details: { display: 'block', padding: theme.spacing(0, 2, 2) },
  node: {
    boxSizing: 'border-box',
    width: '100%',
    height: '100%',
    overflow: 'hidden',
    padding: theme.spacing(0.75, 1),
    borderRadius: theme.shape.borderRadius,
    border: `1px solid ${theme.palette.divider}`,
    backgroundColor: theme.palette.background.paper,
    color: theme.palette.text.primary,
    fontFamily: theme.typography.fontFamily,
    fontSize: theme.typography.body2.fontSize,
    lineHeight: 1.4,
  },
  stage: {
    cursor: 'pointer',
    '&:hover': { borderColor: theme.palette.primary.main },
    '&:focus-visible': {
      outline: `2px solid ${theme.palette.primary.main}`,
      outlineOffset: -2,
    },
  },
  warehouse: { backgroundColor: theme.palette.background.default },
  name: {
    fontWeight: theme.typography.fontWeightMedium as number,
    whiteSpace: 'nowrap',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
  },
  line: {
    whiteSpace: 'nowrap',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    color: theme.palette.text.secondary,
  },
  alias: { fontFamily: 'monospace', color: theme.palette.text.primary },
  statuses: { display: 'flex', gap: theme.spacing(1), whiteSpace: 'nowrap' },
}));

function stageLabel(node: StageNode): string {
  const freight = node.alias
    ? `freight ${node.alias}${
        node.versions.length
          ? ` (${node.versions.map(v => v.version).join(', ')})`
          : ''
      }`
    : 'nothing promoted yet';
  return [
    `Stage ${node.name}: ${freight}`,
    `health ${node.health ?? 'not checked'}`,
    `verification ${node.verification ?? 'none'}`,
  ].join(', ');
}

function StageBoxContent(props: {
  node: StageNode;
  onSelect(stage: string): void;
}) {
  const classes = useStyles();
  const { node, onSelect } = props;
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(node.name);
    }
  };
  return (
    <div
      className={`${classes.node} ${classes.stage}`}
      role="button"
      tabIndex={0}
      aria-label={stageLabel(node)}
      data-testid={`graph-stage-${node.name}`}
      onClick={() => onSelect(node.name)}
      onKeyDown={onKeyDown}
    >
      <div className={classes.name}>{node.name}</div>
      <div
        className={classes.line}
        title={node.versions.map(v => v.label).join('\n')}
      >
        {node.alias ? (
          <>
            <span className={classes.alias}>{node.alias}</span>{' '}
            {node.versions.map(v => v.version).join(', ')}
          </>
        ) : (
          'nothing promoted yet'
        )}
      </div>
      <div className={classes.statuses}>
        {node.health && (
          <span title="Health">
            <PhaseStatus phase={node.health} />
          </span>
        )}
        {node.verification && (
          <span title="Verification">
            <PhaseStatus
              phase={node.verification}
              label={`verification ${node.verification}`}
            />
          </span>
        )}
      </div>
    </div>
  );
}

/** A stage node re-renders only when what it shows changes. */
const StageBox = memo(StageBoxContent);

function WarehouseBox(props: { node: WarehouseNode }) {
  const classes = useStyles();
  const { node } = props;
  const subscriptions =
    node.subscriptions === undefined
      ? 'not listed'
      : `${node.subscriptions} subscription${
          node.subscriptions === 1 ? '' : 's'
        }`;
  return (
    <div
      className={`${classes.node} ${classes.warehouse}`}
      data-testid={`graph-warehouse-${node.name}`}
      aria-label={`Warehouse ${node.name}: ${subscriptions}`}
      role="group"
    >
      <div className={classes.name}>Warehouse {node.name}</div>
      <div className={classes.line}>{subscriptions}</div>
    </div>
  );
}

/**
 * The pipeline as a left-to-right graph: warehouses, then stages along the edges freight
 * takes. Selecting a stage (click, Enter or Space) calls `onSelect` with its name.
 */
export function PipelineGraph(props: {
  pipeline: EntityPipeline;
  onSelect(stage: string): void;
}) {
  const classes = useStyles();
  const { pipeline, onSelect } = props;
  const { nodes, edges } = usePipelineGraph(pipeline);

  const renderNode = useCallback(
    ({ node }: DependencyGraphTypes.RenderNodeProps<PipelineNode>) => {
      const size = node.kind === 'stage' ? STAGE_SIZE : WAREHOUSE_SIZE;
      return (
        <foreignObject width={size.width} height={size.height}>
          {node.kind === 'stage' ? (
            <StageBox node={node} onSelect={onSelect} />
          ) : (
            <WarehouseBox node={node} />
          )}
        </foreignObject>
      );
    },
    [onSelect],
  );

  // a poll that changes nothing shown leaves the graph alone: same element, no re-render
  const graph = useMemo(
    () => (
      <DependencyGraph<PipelineNode, {}>
        nodes={nodes}
        edges={edges}
        renderNode={renderNode}
        direction={DependencyGraphTypes.Direction.LEFT_RIGHT}
        nodeMargin={24}
        rankMargin={64}
        zoom="enable-on-click"
        showArrowHeads
        aria-label={`Pipeline graph of ${pipeline.project}`}
      />
    ),
    [nodes, edges, renderNode, pipeline.project],
  );

  return (
    <Accordion
      defaultExpanded
      variant="outlined"
      TransitionProps={{ unmountOnExit: true }}
    >
      <AccordionSummary
        expandIcon={<ExpandMoreIcon />}
        aria-controls="stagecoach-pipeline-graph"
        id="stagecoach-pipeline-graph-header"
      >
        <Typography variant="h6" component="h3">
          Pipeline graph
        </Typography>
      </AccordionSummary>
      <AccordionDetails
        className={classes.details}
        id="stagecoach-pipeline-graph"
      >
        {graph}
      </AccordionDetails>
    </Accordion>
  );
}
