import {
  InfoCard,
  Progress,
  type TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { ProjectCredential } from '@stagecoach/plugin-stagecoach-common';
import useAsync from 'react-use/esm/useAsync';
import { errorMessage, errorStatus, stagecoachApiRef } from '../../api';
import { DataTable, type DataRow } from '../shared/DataTable';
import { absoluteTime, timeAgo } from '../shared/format';

const useStyles = makeStyles(theme => ({
  mono: { fontFamily: 'monospace', wordBreak: 'break-all' },
  repository: {
    display: 'flex',
    alignItems: 'center',
    flexWrap: 'wrap',
    gap: theme.spacing(1),
  },
  nowrap: { whiteSpace: 'nowrap' },
  message: { padding: theme.spacing(2) },
}));

/** What a credential of each type is used for, as its type's tooltip says. */
const USES: Record<ProjectCredential['type'], string> = {
  git: 'Git discovery and the git steps',
  helm: 'chart discovery, and oci:// charts in oci-download and oci-push',
  image: 'image discovery, oci-download and oci-push',
  generic: 'secret() in promotion steps; not used by discovery',
};

type CredentialRow = DataRow & { credential: ProjectCredential };

function Repository(props: { credential: ProjectCredential }) {
  const classes = useStyles();
  const { repoURL, repoURLIsRegex, type } = props.credential;
  if (!repoURL) {
    return (
      <Typography variant="body2" color="textSecondary" component="span">
        {type === 'generic' ? 'any (read by name)' : 'none'}
      </Typography>
    );
  }
  return (
    <span className={classes.repository}>
      <span className={classes.mono}>{repoURL}</span>
      {repoURLIsRegex && (
        <Chip
          size="small"
          variant="outlined"
          label="pattern"
          title="repoURLIsRegex: a regular expression (RE2) of repository URLs"
        />
      )}
    </span>
  );
}

/** Says how to give the project credentials of its own, when it has none. */
function NoCredentials(props: { project: string }) {
  const classes = useStyles();
  return (
    <Typography
      variant="body2"
      color="textSecondary"
      className={classes.message}
    >
      Project <code>{props.project}</code> has no credentials of its own, so
      Stagecoach uses the backend's (Backstage <code>integrations</code> for
      Git, <code>stagecoach.registries</code> for images and charts). To add
      one, put a <code>Secret</code> labelled{' '}
      <code>kargo.akuity.io/cred-type</code> (<code>git</code>,{' '}
      <code>helm</code>, <code>image</code> or <code>generic</code>) with{' '}
      <code>repoURL</code>, <code>username</code> and <code>password</code> in
      the project's manifests and apply them, as in Kargo. See
      docs/credentials.md in the Stagecoach repository.
    </Typography>
  );
}

/**
 * The project's credentials: the Secrets labelled kargo.akuity.io/cred-type in its manifests,
 * by name, type and the repository (or pattern) they are for. The API never sends their
 * values, and nothing here would show them.
 */
export function ProjectCredentials(props: { project: string; now?: number }) {
  const classes = useStyles();
  const api = useApi(stagecoachApiRef);
  const { project, now } = props;
  const { value, loading, error } = useAsync(
    () => api.listProjectCredentials(project),
    [api, project],
  );

  const columns: TableColumn<CredentialRow>[] = [
    {
      title: 'Name',
      render: ({ credential: c }) => (
        <span className={classes.mono}>{c.name}</span>
      ),
    },
    {
      title: 'Type',
      render: ({ credential: c }) => (
        <span title={`Used for ${USES[c.type] ?? c.type}`}>{c.type}</span>
      ),
    },
    {
      title: 'Repository',
      render: ({ credential: c }) => <Repository credential={c} />,
    },
    {
      title: 'Updated',
      render: ({ credential: c }) => (
        <time
          className={classes.nowrap}
          dateTime={c.updatedAt}
          title={absoluteTime(c.updatedAt)}
        >
          {timeAgo(c.updatedAt, now)}
        </time>
      ),
    },
  ];

  let body: JSX.Element;
  if (loading) {
    body = <Progress />;
  } else if (error) {
    body = (
      <Typography
        variant="body2"
        color="error"
        className={classes.message}
        role="alert"
      >
        {errorStatus(error) === 403
          ? `You may not read the credentials of project ${project}: `
          : `Could not load the credentials of project ${project}: `}
        {errorMessage(error)}
      </Typography>
    );
  } else if (!value?.items.length) {
    body = <NoCredentials project={project} />;
  } else {
    body = (
      <DataTable
        aria-label="Credentials"
        columns={columns}
        data={value.items.map(c => ({ id: c.name, credential: c }))}
        rowTestId={row => `credential-${row.credential.name}`}
      />
    );
  }

  return (
    <InfoCard
      title="Credentials"
      subheader={`Secrets of project ${project}; their values are never shown`}
      noPadding
    >
      {body}
    </InfoCard>
  );
}
