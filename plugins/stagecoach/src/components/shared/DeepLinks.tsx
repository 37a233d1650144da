import { Link } from '@backstage/core-components';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { DeepLink } from '@stagecoach/plugin-stagecoach-common';
import { httpUrl } from './format';

const useStyles = makeStyles(theme => ({
  list: {
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexWrap: 'wrap',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.5),
  },
  broken: {
    color: theme.palette.text.disabled,
    cursor: 'help',
  },
}));

/**
 * Why a link is shown without an address: the backend's error when its expressions failed;
 * otherwise its URL is missing or not http(s) (the backend refuses those, but the UI does
 * not rely on it: only http(s) addresses become links).
 */
function brokenReason(link: DeepLink): string {
  if (link.error) return link.error;
  return link.url
    ? 'Not shown as a link: only http(s) addresses are'
    : 'This link has no address';
}

/**
 * The ProjectConfig's freightLinks or stageLinks, as the backend evaluated them for one
 * freight or stage: each opens in a new tab; one whose expression failed (or whose address is
 * not http(s)) shows its title greyed, the error in its tooltip, and is not a link.
 */
export function DeepLinks(props: { links?: DeepLink[]; 'aria-label': string }) {
  const classes = useStyles();
  const links = props.links ?? [];
  if (!links.length) return null;
  return (
    <ul className={classes.list} aria-label={props['aria-label']}>
      {links.map((link, i) => {
        const url = link.error ? undefined : httpUrl(link.url);
        return (
          <li key={`${i}:${link.title}`}>
            <Typography variant="body2" component="span">
              {url ? (
                <Link
                  to={url}
                  target="_blank"
                  rel="noopener noreferrer"
                  title={link.description}
                  externalLinkIcon
                >
                  {link.title}
                </Link>
              ) : (
                <Tooltip title={brokenReason(link)}>
                  <span className={classes.broken}>{link.title}</span>
                </Tooltip>
              )}
            </Typography>
          </li>
        );
      })}
    </ul>
  );
}
