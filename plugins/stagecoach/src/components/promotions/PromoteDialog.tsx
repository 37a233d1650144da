import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import {
  stagecoachFreightApprovePermission,
  stagecoachPromotePermission,
  type Freight,
  type Promotion,
  type Stage,
  type StageFreightAvailability,
} from '@stagecoach/plugin-stagecoach-common';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { errorMessage, stagecoachApiRef } from '../../api';
import { FreightVersions } from '../freight/FreightVersions';
import { absoluteTime, timeAgo } from '../shared/format';
import { FreightSearchField, LoadMore } from '../shared/FreightPaging';
import { useFreightPages } from '../shared/useFreightPages';
import { PermittedButton } from '../permissions/PermittedButton';

const useStyles = makeStyles(theme => ({
  option: {
    display: 'flex',
    alignItems: 'flex-start',
    gap: theme.spacing(1),
    padding: theme.spacing(1, 1, 1, 0),
    borderTop: `1px solid ${theme.palette.divider}`,
    '&:first-child': { borderTop: 'none' },
  },
  choice: {
    flexGrow: 1,
    alignItems: 'flex-start',
    margin: 0,
    minWidth: 0,
  },
  radio: { paddingTop: theme.spacing(0.5) },
  label: {
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(0.5),
    paddingTop: theme.spacing(0.75),
  },
  aliasLine: {
    display: 'flex',
    alignItems: 'center',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  alias: { fontFamily: 'monospace', fontWeight: 600 },
  reason: { wordBreak: 'break-word' },
  approve: {
    flexShrink: 0,
    marginTop: theme.spacing(0.75),
    whiteSpace: 'nowrap',
  },
  summary: { marginBottom: theme.spacing(1) },
  notice: { marginTop: theme.spacing(2) },
  search: { marginBottom: theme.spacing(1.5) },
  more: { display: 'flex', flexDirection: 'column', alignItems: 'center' },
}));

/** The list without repeats of a freight (the first of each stays). */
function uniqueFreight(
  items: StageFreightAvailability[] | undefined,
): StageFreightAvailability[] | undefined {
  if (!items) return undefined;
  const seen = new Set<string>();
  return items.filter(i => {
    if (seen.has(i.freight.id)) return false;
    seen.add(i.freight.id);
    return true;
  });
}

/** Why a stage has no freight to take, in words that say what to do next. */
export function noCandidatesText(stage: Stage): string {
  const upstream = stage.requestedFreight.flatMap(r => r.sources.stages);
  const warehouses = stage.requestedFreight
    .filter(r => r.sources.direct)
    .map(r => r.origin.name);
  if (!warehouses.length && upstream.length) {
    return `No freight can enter ${
      stage.name
    } yet: it takes freight only after a successful promotion in ${upstream.join(
      ' or ',
    )}.`;
  }
  const from = warehouses.length
    ? ` by warehouse ${warehouses.join(' or ')}`
    : '';
  return `No freight can enter ${stage.name} yet: no freight discovered yet${from}.`;
}

/** Said above a list of freight of which none may enter the stage yet. */
function noneAvailableText(stage: Stage): string {
  return `None of this freight can enter ${stage.name} yet. Approving freight for ${stage.name} lets it in without verification upstream.`;
}

/** Whether promoting `freight` would take the stage back to older freight of the same warehouse. */
function isRollback(freight: Freight, current: Freight | undefined): boolean {
  return (
    !!current &&
    current.id !== freight.id &&
    current.origin.name === freight.origin.name &&
    Date.parse(freight.createdAt) < Date.parse(current.createdAt)
  );
}

function CandidateLabel(props: {
  item: StageFreightAvailability;
  stage: string;
  /** Whether to show why the freight may enter: not when every freight has the same reason. */
  showReason: boolean;
}) {
  const classes = useStyles();
  const { item, stage, showReason } = props;
  const { freight } = item;
  const elsewhere = freight.currentlyIn.filter(s => s !== stage);
  return (
    <span className={classes.label}>
      <span className={classes.aliasLine}>
        <span className={classes.alias}>{freight.alias}</span>
        {freight.currentlyIn.includes(stage) && (
          <Chip component="span" size="small" color="primary" label="current" />
        )}
        {item.autoPromotionCandidate && (
          <Chip
            component="span"
            size="small"
            variant="outlined"
            label="auto-promotion candidate"
            title={`Auto-promotion would promote ${freight.alias} to ${stage}`}
          />
        )}
      </span>
      <FreightVersions freight={freight} />
      <Typography variant="caption" color="textSecondary" component="span">
        <span title={absoluteTime(freight.createdAt)}>
          created {timeAgo(freight.createdAt)}
        </span>
        {elsewhere.length > 0 && ` · in ${elsewhere.join(', ')}`}
      </Typography>
      {(showReason || !item.available) && (
        <Typography
          variant="caption"
          color={item.available ? 'textSecondary' : 'textPrimary'}
          component="span"
          className={classes.reason}
          title={
            item.availableAt
              ? `available at ${absoluteTime(item.availableAt)}`
              : undefined
          }
        >
          {item.available ? item.reason : `Not available: ${item.reason}`}
        </Typography>
      )}
    </span>
  );
}

/** What promoting the chosen freight does besides the promotion: rollback, auto-promotion hold. */
function Consequences(props: {
  stage: Stage;
  item: StageFreightAvailability;
  current: Freight | undefined;
}) {
  const classes = useStyles();
  const { stage, item, current } = props;
  const { freight } = item;
  const held = (stage.autoPromotionHolds ?? []).some(
    h => h.origin.name === freight.origin.name,
  );
  const notices: Array<{ key: string; text: string }> = [];
  if (current && isRollback(freight, current)) {
    notices.push({
      key: 'rollback',
      text: `Rollback: ${freight.alias} is older than ${current.alias}, the freight in ${stage.name} now.`,
    });
  }
  if (stage.autoPromotionEnabled && !item.autoPromotionCandidate) {
    notices.push({
      key: 'hold',
      text: held
        ? `Auto-promotion of ${stage.name} is paused; promoting ${freight.alias} by hand keeps it paused until the hold is released (Resume auto-promotion on the stage card).`
        : `Auto-promotion is enabled for ${stage.name}: promoting ${freight.alias} by hand pauses auto-promotion of ${stage.name} until the hold is released (Resume auto-promotion on the stage card).`,
    });
  }
  if (stage.autoPromotionEnabled && item.autoPromotionCandidate && held) {
    notices.push({
      key: 'resume',
      text: `${freight.alias} is the auto-promotion candidate: promoting it releases the hold, and auto-promotion of ${stage.name} resumes.`,
    });
  }
  return (
    <>
      {notices.map(n => (
        <Alert
          key={n.key}
          severity={n.key === 'hold' ? 'warning' : 'info'}
          className={classes.notice}
          role="status"
        >
          {n.text}
        </Alert>
      ))}
    </>
  );
}

/**
 * The freight of the stage's warehouses, newest first, a page at a time (searched on the
 * server): what may enter can be chosen and promoted; what may not says why, and can be
 * approved for the stage.
 */
export function PromoteDialog(props: {
  project: string;
  stage: Stage;
  onClose(): void;
  onPromoted(promotion: Promotion): void;
  /** Told after freight was approved for the stage here. */
  onApproved?(freight: Freight): void;
  /**
   * Freight chosen beforehand (in the freight timeline): selected, and listed first when no
   * loaded page holds it.
   */
  freight?: Freight;
}) {
  const classes = useStyles();
  const { project, stage, onClose, onPromoted, onApproved } = props;
  const preselected = props.freight?.id;
  const api = useApi(stagecoachApiRef);
  const [q, setQ] = useState('');
  // the first page without arguments: what the dialog always asked for
  const load = useCallback(
    (cursor?: string) =>
      q || cursor
        ? api.listStageFreight(project, stage.name, {
            ...(q ? { q } : {}),
            ...(cursor ? { cursor } : {}),
          })
        : api.listStageFreight(project, stage.name),
    [api, project, stage.name, q],
  );
  const pages = useFreightPages(load, `${project}/${stage.name}?${q}`);
  const { error: loadError, update: updatePages } = pages;
  // once: freight chosen beforehand and listed first comes again with its own page
  const items = useMemo(() => uniqueFreight(pages.items), [pages.items]);
  // the stage's freight, for the rollback notice, when no loaded page holds it
  const [currentItem, setCurrentItem] = useState<StageFreightAvailability>();
  const [selected, setSelected] = useState<string | undefined>(preselected);
  const [submitting, setSubmitting] = useState(false);
  const [approving, setApproving] = useState<string>();
  const [error, setError] = useState<unknown>();
  const titleId = `stagecoach-promote-${stage.name}`;

  const currentId = stage.currentFreight?.id;
  const currentLoaded = !!items?.some(i => i.freight.id === currentId);
  useEffect(() => {
    if (
      !currentId ||
      !items ||
      currentLoaded ||
      currentItem?.freight.id === currentId
    )
      return undefined;
    let cancelled = false;
    api.listStageFreight(project, stage.name, { q: currentId, limit: 1 }).then(
      list => {
        const found = list.items.find(i => i.freight.id === currentId);
        if (!cancelled && found) setCurrentItem(found);
      },
      () => undefined, // without it, only the rollback notice is missing
    );
    return () => {
      cancelled = true;
    };
  }, [api, project, stage.name, currentId, items, currentLoaded, currentItem]);

  // the freight chosen beforehand, looked up for this stage when the first page lacks it
  const preselectedLoaded = !!items?.some(i => i.freight.id === preselected);
  const [lookedUp, setLookedUp] = useState<string>();
  useEffect(() => {
    if (!preselected || !items || preselectedLoaded || q) return undefined;
    if (lookedUp === preselected) return undefined;
    setLookedUp(preselected);
    api
      .listStageFreight(project, stage.name, { q: preselected, limit: 1 })
      .then(
        list => {
          const found = list.items.find(i => i.freight.id === preselected);
          if (found) {
            updatePages(all =>
              all.some(i => i.freight.id === preselected)
                ? all
                : [found, ...all],
            );
          }
        },
        () => undefined, // the user can still search for it
      );
    return undefined;
  }, [
    api,
    project,
    stage.name,
    preselected,
    items,
    preselectedLoaded,
    q,
    lookedUp,
    updatePages,
  ]);

  const confirm = async () => {
    if (!selected) return;
    setSubmitting(true);
    setError(undefined);
    try {
      onPromoted(await api.promote(project, stage.name, selected));
    } catch (e) {
      setError(e);
      setSubmitting(false);
    }
  };

  const approve = async (item: StageFreightAvailability) => {
    const id = item.freight.id;
    setApproving(id);
    setError(undefined);
    try {
      const freight = await api.approveFreight(project, id, stage.name);
      onApproved?.(freight);
      // this freight again, for its reason as it is now; should that fail, the approval
      // still let the freight in
      const fresh = await api
        .listStageFreight(project, stage.name, { q: id, limit: 1 })
        .then(
          list => list.items.find(i => i.freight.id === id),
          () => undefined,
        );
      const next: StageFreightAvailability = fresh ?? {
        ...item,
        freight,
        available: true,
        reason: `approved for ${stage.name}`,
      };
      pages.update(all => all.map(i => (i.freight.id === id ? next : i)));
      if (next.available) setSelected(id);
    } catch (e) {
      setError(
        new Error(
          `Could not approve ${item.freight.alias} for ${
            stage.name
          }: ${errorMessage(e)}`,
        ),
      );
    } finally {
      setApproving(undefined);
    }
  };

  const current = (
    items?.find(i => i.freight.id === currentId) ??
    (currentItem?.freight.id === currentId ? currentItem : undefined)
  )?.freight;
  const chosen = items?.find(i => i.freight.id === selected && i.available);
  const availableReasons = new Set(
    (items ?? []).filter(i => i.available).map(i => i.reason),
  );
  // one reason for all ("dev takes freight directly from warehouse shop") says nothing per freight
  const showReasons =
    availableReasons.size > 1 ||
    (items ?? []).filter(i => i.available).length <= 1;

  let body: React.ReactNode;
  if (loadError !== undefined) {
    body = (
      <Alert severity="error">
        Could not load the freight for {stage.name}: {errorMessage(loadError)}
      </Alert>
    );
  } else if (!items) {
    body = <Progress />;
  } else if (!items.length) {
    body = (
      <Typography variant="body2" color="textSecondary">
        {q
          ? `No freight of ${stage.name}'s warehouses matches “${q}”.`
          : noCandidatesText(stage)}
      </Typography>
    );
  } else {
    body = (
      <>
        {!items.some(i => i.available) && (
          <Typography
            variant="body2"
            color="textSecondary"
            className={classes.summary}
          >
            {noneAvailableText(stage)}
          </Typography>
        )}
        <RadioGroup
          aria-label={`Freight for ${stage.name}`}
          name={`freight-${stage.name}`}
          value={chosen ? chosen.freight.id : ''}
          onChange={e => setSelected(e.target.value)}
        >
          {items.map(item => (
            <div
              key={item.freight.id}
              className={classes.option}
              data-testid={`freight-option-${item.freight.alias}`}
            >
              <FormControlLabel
                value={item.freight.id}
                className={classes.choice}
                disabled={submitting || !item.available}
                control={<Radio color="primary" className={classes.radio} />}
                label={
                  <CandidateLabel
                    item={item}
                    stage={stage.name}
                    showReason={showReasons}
                  />
                }
              />
              {!item.available && (
                <PermittedButton
                  permission={stagecoachFreightApprovePermission}
                  project={project}
                  stage={stage.name}
                  activity={`approving freight for ${stage.name}`}
                  size="small"
                  color="primary"
                  className={classes.approve}
                  disabled={submitting || approving !== undefined}
                  aria-label={`Approve ${item.freight.alias} for ${stage.name}`}
                  onClick={() => approve(item)}
                >
                  {approving === item.freight.id
                    ? 'Approving…'
                    : `Approve for ${stage.name}`}
                </PermittedButton>
              )}
            </div>
          ))}
        </RadioGroup>
        <LoadMore
          pages={pages}
          label={`Load more freight for ${stage.name}`}
          className={classes.more}
        />
        {chosen && (
          <Consequences stage={stage} item={chosen} current={current} />
        )}
      </>
    );
  }

  return (
    <Dialog
      open
      onClose={submitting ? undefined : onClose}
      aria-labelledby={titleId}
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id={titleId}>Promote to {stage.name}</DialogTitle>
      <DialogContent dividers>
        <FreightSearchField
          label={`Search freight for ${stage.name}`}
          onSearch={setQ}
          className={classes.search}
        />
        {body}
        {error !== undefined && (
          <Alert severity="error" className={classes.notice}>
            {errorMessage(error)}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={submitting}>
          Cancel
        </Button>
        <PermittedButton
          permission={stagecoachPromotePermission}
          project={project}
          stage={stage.name}
          activity={`promoting to ${stage.name}`}
          variant="contained"
          color="primary"
          disabled={!chosen || submitting}
          onClick={confirm}
        >
          Promote
        </PermittedButton>
      </DialogActions>
    </Dialog>
  );
}
