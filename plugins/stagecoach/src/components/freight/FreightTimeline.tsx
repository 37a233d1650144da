import { InfoCard } from '@backstage/core-components';
import ButtonBase from '@material-ui/core/ButtonBase';
import ListItemText from '@material-ui/core/ListItemText';
import ListSubheader from '@material-ui/core/ListSubheader';
import Menu from '@material-ui/core/Menu';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import {
  stagecoachPromotePermission,
  type EntityPipeline,
  type Freight,
  type Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { forwardRef, useState } from 'react';
import { useStagecoachPermission } from '../permissions/useStagecoachPermission';
import { PromoteDialog } from '../promotions/PromoteDialog';
import { LoadMore } from '../shared/FreightPaging';
import { absoluteTime, shortVersions, timeAgo } from '../shared/format';
import type { PipelineState } from '../shared/usePipeline';
import { useStageActions } from '../stages/useStageActions';
import { useFreightTable } from './useFreightTable';

const useStyles = makeStyles(theme => ({
  filter: { padding: theme.spacing(1, 2), maxWidth: 320 },
  strip: {
    display: 'flex',
    alignItems: 'stretch',
    gap: theme.spacing(1),
    overflowX: 'auto',
    padding: theme.spacing(1, 2, 2),
    margin: 0,
    listStyle: 'none',
  },
  item: { flex: '0 0 auto', display: 'flex' },
  tile: {
    width: 168,
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'stretch',
    justifyContent: 'flex-start',
    textAlign: 'left',
    gap: theme.spacing(0.5),
    padding: theme.spacing(1),
    border: `1px solid ${theme.palette.divider}`,
    borderRadius: theme.shape.borderRadius,
    '&:hover': { backgroundColor: theme.palette.action.hover },
    '&.Mui-focusVisible, &:focus-visible': {
      outline: `2px solid ${theme.palette.primary.main}`,
      outlineOffset: 2,
    },
  },
  chosen: { borderColor: theme.palette.primary.main },
  alias: {
    fontFamily: 'monospace',
    fontWeight: 600,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  },
  versions: {
    fontFamily: 'monospace',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
  },
  marks: { display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5) },
  mark: {
    fontSize: theme.typography.caption.fontSize,
    lineHeight: 1.6,
    padding: theme.spacing(0, 0.75),
    borderRadius: 10,
    border: '1px solid transparent',
  },
  markIn: {
    backgroundColor: theme.palette.primary.main,
    color: theme.palette.primary.contrastText,
  },
  markVerified: {
    borderColor: theme.palette.success?.main ?? theme.palette.primary.main,
    color: theme.palette.success?.main ?? theme.palette.primary.main,
  },
  markApproved: {
    borderColor: theme.palette.text.secondary,
    borderStyle: 'dashed',
    color: theme.palette.text.secondary,
  },
  more: { flex: '0 0 auto', display: 'flex', alignItems: 'center' },
  empty: { padding: theme.spacing(2) },
}));

/** Where a freight stands in each stage: held there now, verified there, approved for it. */
export interface FreightMarks {
  in: string[];
  verified: string[];
  approved: string[];
}

/**
 * A freight's marks in pipeline order. A stage that holds it is marked "in" (however it got
 * there); verified and approved marks name the stages where it is not in now.
 */
export function freightMarks(
  freight: Freight,
  stageOrder: string[],
): FreightMarks {
  const inOrder = (names: string[]) =>
    [...names].sort((a, b) => stageOrder.indexOf(a) - stageOrder.indexOf(b));
  const notIn = (s: string) => !freight.currentlyIn.includes(s);
  return {
    in: inOrder(freight.currentlyIn),
    verified: inOrder(freight.verifiedIn.filter(notIn)),
    approved: inOrder((freight.approvedFor ?? []).filter(notIn)),
  };
}

/** `brave-fox: in dev; verified in staging; approved for prod`, the tile's accessible name. */
function tileLabel(freight: Freight, marks: FreightMarks): string {
  const parts = [freight.alias];
  if (marks.in.length) parts.push(`in ${marks.in.join(', ')}`);
  if (marks.verified.length) {
    parts.push(`verified in ${marks.verified.join(', ')}`);
  }
  if (marks.approved.length) {
    parts.push(`approved for ${marks.approved.join(', ')}`);
  }
  return parts.join('; ');
}

/** One freight of the strip: a button that opens the "Promote to…" menu. */
const FreightTile = forwardRef<
  HTMLButtonElement,
  {
    freight: Freight;
    stageOrder: string[];
    now?: number;
    chosen: boolean;
    onChoose(tile: HTMLElement): void;
  }
>(function FreightTileWithRef(props, ref) {
  const classes = useStyles();
  const { freight: f, stageOrder, now, chosen, onChoose } = props;
  const marks = freightMarks(f, stageOrder);
  const versions = shortVersions(f);
  return (
    <ButtonBase
      ref={ref}
      focusRipple
      className={`${classes.tile} ${chosen ? classes.chosen : ''}`}
      aria-label={tileLabel(f, marks)}
      aria-haspopup="menu"
      aria-expanded={chosen}
      data-testid={`timeline-freight-${f.alias}`}
      onClick={e => onChoose(e.currentTarget)}
    >
      <span className={classes.alias} title={f.id}>
        {f.alias}
      </span>
      <Typography
        variant="caption"
        component="span"
        className={classes.versions}
        title={versions.map(v => v.label).join('\n')}
      >
        {versions.map(v => v.version).join(' · ') || '—'}
      </Typography>
      <Typography variant="caption" component="span" color="textSecondary">
        <time dateTime={f.createdAt} title={absoluteTime(f.createdAt)}>
          {timeAgo(f.createdAt, now)}
        </time>
        {' · '}
        {f.origin.name}
      </Typography>
      <span className={classes.marks}>
        {marks.in.map(s => (
          <span
            key={`in-${s}`}
            className={`${classes.mark} ${classes.markIn}`}
            title={`in ${s}`}
          >
            {s}
          </span>
        ))}
        {marks.verified.map(s => (
          <span
            key={`verified-${s}`}
            className={`${classes.mark} ${classes.markVerified}`}
            title={`verified in ${s}`}
          >
            ✓ {s}
          </span>
        ))}
        {marks.approved.map(s => (
          <span
            key={`approved-${s}`}
            className={`${classes.mark} ${classes.markApproved}`}
            title={`approved for ${s}`}
          >
            ⚑ {s}
          </span>
        ))}
      </span>
    </ButtonBase>
  );
});

/** A stage of the "Promote to…" menu, offered only when the policy lets the user promote there. */
const PromoteMenuItem = forwardRef<
  HTMLLIElement,
  {
    project: string;
    stage: Stage;
    freight: Freight;
    onPick(stage: Stage): void;
  }
>(function PromoteMenuItemWithRef(props, ref) {
  const { project, stage, freight, onPick } = props;
  const permission = useStagecoachPermission({
    permission: stagecoachPromotePermission,
    project,
    stage: stage.name,
    activity: `promoting to ${stage.name}`,
  });
  let secondary: string | undefined;
  if (permission.loading) secondary = 'checking your permissions…';
  else if (!permission.allowed) secondary = permission.reason;
  else if (freight.currentlyIn.includes(stage.name)) secondary = 'holds it now';
  return (
    <MenuItem
      ref={ref}
      disabled={!permission.allowed}
      onClick={() => onPick(stage)}
      aria-label={`Promote ${freight.alias} to ${stage.name}`}
    >
      <ListItemText
        primary={stage.name}
        secondary={secondary}
        secondaryTypographyProps={{ style: { whiteSpace: 'normal' } }}
      />
    </MenuItem>
  );
});

/**
 * Once the menu is open, focus on its first stage the user may promote to, else on the list
 * (whose arrow keys reach the stages once the permissions are answered): MUI's own first
 * focus misses when every item is disabled while the permissions are being checked.
 */
function focusFirstStage(paper: HTMLElement) {
  const list = paper.querySelector<HTMLElement>('[role="menu"]');
  if (!list || list.contains(paper.ownerDocument.activeElement)) return;
  const first = list.querySelector<HTMLElement>(
    '[role="menuitem"]:not([aria-disabled="true"])',
  );
  (first ?? list).focus();
}

/** The stages that take freight of a warehouse (directly or from upstream), in pipeline order. */
function stagesTaking(stages: Stage[], warehouse: string): Stage[] {
  return stages.filter(s =>
    s.requestedFreight.some(r => r.origin.name === warehouse),
  );
}

/** The strip of one warehouse filter: its own paging, reset when the filter changes. */
function TimelineStrip(props: {
  pipeline: EntityPipeline;
  warehouses?: string[];
  now?: number;
  reload: Pick<PipelineState, 'refresh' | 'addPromotion' | 'updateStage'>;
}) {
  const classes = useStyles();
  const { pipeline, warehouses, now, reload } = props;
  const table = useFreightTable(pipeline.project, pipeline.freight, warehouses);
  const actions = useStageActions(pipeline.project, reload);
  const stageOrder = pipeline.stages.map(s => s.name);
  const [menu, setMenu] = useState<{ freight: Freight; anchor: HTMLElement }>();
  const closeMenu = () => setMenu(undefined);
  const targets = menu
    ? stagesTaking(pipeline.stages, menu.freight.origin.name)
    : [];

  if (table.rows.length === 0) {
    return (
      <Typography
        variant="body2"
        color="textSecondary"
        className={classes.empty}
      >
        No freight discovered yet: a warehouse creates freight when it finds new
        artifact versions.
      </Typography>
    );
  }
  return (
    <>
      <ol className={classes.strip} aria-label="Freight timeline, newest first">
        {table.rows.map(f => (
          <li key={f.id} className={classes.item}>
            <FreightTile
              freight={f}
              stageOrder={stageOrder}
              now={now}
              chosen={menu?.freight.id === f.id}
              onChoose={anchor => setMenu({ freight: f, anchor })}
            />
          </li>
        ))}
        {table.hasMore || table.moreError !== undefined ? (
          <li className={classes.more}>
            <LoadMore
              pages={{
                items: table.rows,
                hasMore: table.hasMore,
                loadingMore: table.loadingMore,
                moreError: table.moreError,
                loadMore: table.loadMore,
                update: () => undefined,
              }}
              label="Load more freight in the timeline"
            />
          </li>
        ) : null}
      </ol>
      <Menu
        open={!!menu}
        anchorEl={menu?.anchor}
        onClose={closeMenu}
        getContentAnchorEl={null}
        TransitionProps={{ onEntered: focusFirstStage }}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'left' }}
        MenuListProps={{
          'aria-label': menu ? `Promote ${menu.freight.alias} to…` : undefined,
          // outside the items, so that focus starts on the first stage
          subheader: menu ? (
            <ListSubheader disableSticky>
              Promote {menu.freight.alias} to…
            </ListSubheader>
          ) : undefined,
        }}
      >
        {menu && targets.length === 0 && (
          <MenuItem disabled>
            No stage takes freight of {menu.freight.origin.name}
          </MenuItem>
        )}
        {menu &&
          targets.map(stage => (
            <PromoteMenuItem
              key={stage.name}
              project={pipeline.project}
              stage={stage}
              freight={menu.freight}
              onPick={s => {
                actions.openPromote(s, menu.freight);
                closeMenu();
              }}
            />
          ))}
      </Menu>
      {actions.promoteTo && (
        <PromoteDialog
          project={pipeline.project}
          stage={actions.promoteTo}
          freight={actions.promoteFreight}
          onClose={actions.closePromote}
          onPromoted={actions.promoted}
          onApproved={actions.approved}
        />
      )}
    </>
  );
}

const ALL = '';

/**
 * Kargo's freight timeline: the entity's freight newest first as a horizontal strip, each
 * tile marked with the stages that hold it, verified it or approved it. Choosing a tile offers
 * the stages to promote it to, through the promote dialog. Older freight loads a page at a
 * time at the end of the strip; a project with several warehouses can be filtered by one.
 */
export function FreightTimeline(props: {
  pipeline: EntityPipeline;
  now?: number;
  reload: Pick<PipelineState, 'refresh' | 'addPromotion' | 'updateStage'>;
}) {
  const classes = useStyles();
  const { pipeline, now, reload } = props;
  const names = (pipeline.warehouses ?? []).map(w => w.name);
  const [warehouse, setWarehouse] = useState(ALL);
  const shown = warehouse && names.includes(warehouse) ? [warehouse] : names;
  return (
    <InfoCard title="Freight timeline" subheader="Newest first" noPadding>
      {names.length > 1 && (
        <div className={classes.filter}>
          <TextField
            select
            size="small"
            variant="outlined"
            fullWidth
            label="Warehouse"
            value={warehouse}
            onChange={e => setWarehouse(e.target.value)}
            SelectProps={{ native: true }}
            inputProps={{ 'aria-label': 'Warehouse' }}
          >
            <option value={ALL}>All warehouses</option>
            {names.map(n => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </TextField>
        </div>
      )}
      <TimelineStrip
        key={shown.join(',')}
        pipeline={pipeline}
        warehouses={shown.length ? shown : undefined}
        now={now}
        reload={reload}
      />
    </InfoCard>
  );
}
