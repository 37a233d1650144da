import { InfoCard, type TableColumn } from '@backstage/core-components';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { Freight } from '@stagecoach/plugin-stagecoach-common';
import { FreightVersions } from './FreightVersions';
import { DataTable, type DataRow } from '../shared/DataTable';
import { DeepLinks } from '../shared/DeepLinks';
import { absoluteTime, soakLabel, timeAgo } from '../shared/format';
import { FreightSearchField, LoadMore } from '../shared/FreightPaging';
import { Progress } from '@backstage/core-components';
import { useFreightTable } from './useFreightTable';
import { errorMessage } from '../../api';

const useStyles = makeStyles(theme => ({
  alias: { fontFamily: 'monospace', fontWeight: 600, whiteSpace: 'nowrap' },
  nowrap: { whiteSpace: 'nowrap' },
  stages: { display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5) },
  empty: { padding: theme.spacing(2) },
  search: { padding: theme.spacing(1, 2) },
  more: {
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    padding: theme.spacing(1),
  },
}));

/** `dev (soaked 2h 05m)` when the freight's status says how long it soaked there. */
function verifiedLabel(freight: Freight, stage: string): string {
  const soak = soakLabel(freight.status?.verifiedIn[stage]?.longestSoakSeconds);
  return soak ? `${stage} (soaked ${soak})` : stage;
}

/** A tooltip for a stage the freight is in: since when, and its verification there. */
function currentTitle(freight: Freight, stage: string): string {
  const since = freight.status?.currentlyIn[stage]?.since;
  const verification = freight.status?.verifiedIn[stage];
  const parts = [`in ${stage}${since ? ` since ${absoluteTime(since)}` : ''}`];
  if (verification) {
    parts.push(
      `verified ${absoluteTime(verification.verifiedAt)}, soaked ${soakLabel(
        verification.longestSoakSeconds,
      )}`,
    );
  } else if (!freight.verifiedIn.includes(stage)) {
    parts.push('not verified yet');
  }
  return parts.join('; ');
}

/** `approved for prod`; who approved it and when, for the tooltip. */
function approvalTitle(freight: Freight, stages: string[]): string {
  return stages
    .map(s => {
      const a = freight.status?.approvedFor[s];
      if (!a) return `approved for ${s}`;
      return `approved for ${s}${
        a.approvedBy ? ` by ${a.approvedBy}` : ''
      } ${absoluteTime(a.approvedAt)}`;
    })
    .join('; ');
}

/** The stages a freight is in (with why, on hover), verified in and approved for. */
function FreightStages(props: {
  freight: Freight;
  inOrder(names: string[]): string[];
}) {
  const classes = useStyles();
  const { freight: f, inOrder } = props;
  const verifiedOnly = inOrder(
    f.verifiedIn.filter(s => !f.currentlyIn.includes(s)),
  );
  const approved = inOrder(
    (f.approvedFor ?? []).filter(s => !f.currentlyIn.includes(s)),
  );
  return (
    <>
      <div className={classes.stages}>
        {inOrder(f.currentlyIn).map(s => (
          <Chip
            key={s}
            size="small"
            color="primary"
            label={s}
            title={currentTitle(f, s)}
          />
        ))}
        {f.currentlyIn.length === 0 && (
          <Typography variant="body2" color="textSecondary">
            none
          </Typography>
        )}
      </div>
      {verifiedOnly.length > 0 && (
        <Typography variant="caption" color="textSecondary" component="div">
          verified in {verifiedOnly.map(s => verifiedLabel(f, s)).join(', ')}
        </Typography>
      )}
      {approved.length > 0 && (
        <Typography
          variant="caption"
          color="textSecondary"
          component="div"
          title={approvalTitle(f, approved)}
        >
          approved for {approved.join(', ')}
        </Typography>
      )}
    </>
  );
}

type FreightRow = DataRow & { freight: Freight };

const rowTestId = (row: FreightRow) => `freight-${row.freight.alias}`;

/**
 * The freight of the entity's warehouses, newest first, and which stages hold it. With a
 * `project`, older freight loads a page at a time ("Load more") and a search box asks the
 * server.
 */
export function FreightCard(props: {
  /** The pipeline's freight: its newest and those its stages hold. */
  freight: Freight[];
  /** Stage names in pipeline order, to list a freight's stages in that order. */
  stageOrder: string[];
  now?: number;
  /** The project, to read more freight from the server. */
  project?: string;
  /** The entity's warehouses, when it shows only some of the project's. */
  warehouses?: string[];
}) {
  const classes = useStyles();
  const { stageOrder, now } = props;
  const table = useFreightTable(props.project, props.freight, props.warehouses);
  const freight = table.rows;
  const searching = table.pageable && !!table.q;
  const inOrder = (names: string[]) =>
    [...names].sort((a, b) => stageOrder.indexOf(a) - stageOrder.indexOf(b));
  const columns: TableColumn<FreightRow>[] = [
    {
      title: 'Alias',
      render: ({ freight: f }) => (
        <span className={classes.alias} title={f.id}>
          {f.alias}
        </span>
      ),
    },
    {
      title: 'Versions',
      render: ({ freight: f }) => <FreightVersions freight={f} />,
    },
    { title: 'Warehouse', render: ({ freight: f }) => f.origin.name },
    {
      title: 'Created',
      render: ({ freight: f }) => (
        <time
          className={classes.nowrap}
          dateTime={f.createdAt}
          title={absoluteTime(f.createdAt)}
        >
          {timeAgo(f.createdAt, now)}
        </time>
      ),
    },
    {
      title: 'In stages',
      render: ({ freight: f }) => (
        <FreightStages freight={f} inOrder={inOrder} />
      ),
    },
  ];
  // the ProjectConfig's freightLinks: a column only when the project has some
  if (freight.some(f => (f.links ?? []).length > 0)) {
    columns.push({
      title: 'Links',
      render: ({ freight: f }) => (
        <DeepLinks links={f.links} aria-label={`Links of freight ${f.alias}`} />
      ),
    });
  }

  let body: React.ReactNode;
  if (searching && table.searchPages.error !== undefined) {
    body = (
      <Typography
        variant="body2"
        color="error"
        className={classes.empty}
        role="alert"
      >
        Could not search the freight: {errorMessage(table.searchPages.error)}
      </Typography>
    );
  } else if (searching && !table.searchPages.items) {
    body = <Progress />;
  } else if (freight.length === 0) {
    body = (
      <Typography
        variant="body2"
        color="textSecondary"
        className={classes.empty}
      >
        {searching
          ? `No freight matches “${table.q}”.`
          : 'No freight discovered yet: a warehouse creates freight when it finds new artifact versions.'}
      </Typography>
    );
  } else {
    body = (
      <DataTable
        aria-label="Freight"
        columns={columns}
        data={freight.map(f => ({ id: f.id, freight: f }))}
        rowTestId={rowTestId}
      />
    );
  }

  return (
    <InfoCard title="Freight" subheader="Newest first" noPadding>
      {table.pageable && (
        <div className={classes.search}>
          <FreightSearchField label="Search freight" onSearch={table.search} />
        </div>
      )}
      {body}
      {searching ? (
        <LoadMore
          pages={table.searchPages}
          label="Load more freight"
          className={classes.more}
        />
      ) : (
        <LoadMore
          pages={{
            items: freight,
            hasMore: table.hasMore,
            loadingMore: table.loadingMore,
            moreError: table.moreError,
            loadMore: table.loadMore,
            update: () => undefined,
          }}
          label="Load more freight"
          className={classes.more}
        />
      )}
    </InfoCard>
  );
}
