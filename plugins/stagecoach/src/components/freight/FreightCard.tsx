import { InfoCard } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { Freight } from '@stagecoach/plugin-stagecoach-common';
import { FreightVersions } from './FreightVersions';
import { absoluteTime, soakLabel, timeAgo } from '../shared/format';

const useStyles = makeStyles(theme => ({
  scroll: { overflowX: 'auto' },
  alias: { fontFamily: 'monospace', fontWeight: 600, whiteSpace: 'nowrap' },
  nowrap: { whiteSpace: 'nowrap' },
  stages: { display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5) },
  empty: { padding: theme.spacing(2) },
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

/** All the freight of the entity's warehouses, newest first, and which stages hold it. */
export function FreightCard(props: {
  freight: Freight[];
  /** Stage names in pipeline order, to list a freight's stages in that order. */
  stageOrder: string[];
  now?: number;
}) {
  const classes = useStyles();
  const { freight, stageOrder, now } = props;
  const inOrder = (names: string[]) =>
    [...names].sort((a, b) => stageOrder.indexOf(a) - stageOrder.indexOf(b));

  return (
    <InfoCard title="Freight" subheader="Newest first" noPadding>
      {freight.length === 0 ? (
        <Typography
          variant="body2"
          color="textSecondary"
          className={classes.empty}
        >
          No freight discovered yet: a warehouse creates freight when it finds
          new artifact versions.
        </Typography>
      ) : (
        <Box className={classes.scroll}>
          <Table size="small" aria-label="Freight">
            <TableHead>
              <TableRow>
                <TableCell>Alias</TableCell>
                <TableCell>Versions</TableCell>
                <TableCell>Warehouse</TableCell>
                <TableCell>Created</TableCell>
                <TableCell>In stages</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {freight.map(f => {
                const verifiedOnly = inOrder(
                  f.verifiedIn.filter(s => !f.currentlyIn.includes(s)),
                );
                const approved = inOrder(
                  (f.approvedFor ?? []).filter(s => !f.currentlyIn.includes(s)),
                );
                return (
                  <TableRow key={f.id} data-testid={`freight-${f.alias}`}>
                    <TableCell className={classes.alias} title={f.id}>
                      {f.alias}
                    </TableCell>
                    <TableCell>
                      <FreightVersions freight={f} />
                    </TableCell>
                    <TableCell>{f.origin.name}</TableCell>
                    <TableCell className={classes.nowrap}>
                      <time
                        dateTime={f.createdAt}
                        title={absoluteTime(f.createdAt)}
                      >
                        {timeAgo(f.createdAt, now)}
                      </time>
                    </TableCell>
                    <TableCell>
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
                        <Typography
                          variant="caption"
                          color="textSecondary"
                          component="div"
                        >
                          verified in{' '}
                          {verifiedOnly
                            .map(s => verifiedLabel(f, s))
                            .join(', ')}
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
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </Box>
      )}
    </InfoCard>
  );
}
