import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { Freight } from '@stagecoach/plugin-stagecoach-common';
import { chartLabel, commitLabel, imageLabel } from '../shared/format';

const useStyles = makeStyles(theme => ({
  root: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(0.5),
  },
  chip: {
    fontFamily: 'monospace',
    maxWidth: '100%',
  },
}));

interface Version {
  key: string;
  label: string;
  detail: string;
}

type Versioned = Pick<
  Freight,
  'commits' | 'images' | 'charts' | 'artifactLabels'
>;

/**
 * The backend labels each artifact by its subscription kind (`artifactLabels`), so a kind
 * the frontend does not know shows too. Freight from a backend that sends no labels is
 * labelled here, the same way.
 */
function versionsOf(freight: Versioned): Version[] {
  if (freight.artifactLabels) {
    return freight.artifactLabels.map((a, i) => ({
      key: `${a.kind}:${i}:${a.detail}`,
      label: a.label,
      detail: a.detail,
    }));
  }
  return [
    ...(freight.commits ?? []).map(c => ({
      key: `commit:${c.repoURL}:${c.id}`,
      label: commitLabel(c),
      detail: `Git ${c.repoURL} at ${c.id}${c.tag ? ` (tag ${c.tag})` : ''}${
        c.branch ? ` on ${c.branch}` : ''
      }`,
    })),
    ...(freight.images ?? []).map(i => ({
      key: `image:${i.repoURL}:${i.tag}`,
      label: imageLabel(i),
      detail: `Image ${i.repoURL}:${i.tag}${i.digest ? ` @ ${i.digest}` : ''}`,
    })),
    ...(freight.charts ?? []).map(c => ({
      key: `chart:${c.repoURL}:${c.name ?? ''}:${c.version}`,
      label: chartLabel(c),
      detail: `Chart ${c.repoURL}${c.name ? ` ${c.name}` : ''} ${c.version}`,
    })),
  ];
}

/**
 * The artifact versions a piece of freight carries, one small chip each. Phrasing content
 * only, so it can sit inside a radio button's label.
 */
export function FreightVersions(props: { freight: Versioned }) {
  const classes = useStyles();
  const versions = versionsOf(props.freight);
  if (!versions.length) {
    return (
      <Typography variant="body2" component="span" color="textSecondary">
        no artifacts
      </Typography>
    );
  }
  return (
    <span className={classes.root}>
      {versions.map(v => (
        <Chip
          key={v.key}
          component="span"
          size="small"
          variant="outlined"
          className={classes.chip}
          label={v.label}
          title={v.detail}
        />
      ))}
    </span>
  );
}
