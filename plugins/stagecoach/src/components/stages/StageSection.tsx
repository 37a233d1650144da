import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';

const useStyles = makeStyles(theme => ({
  label: {
    display: 'block',
    marginBottom: theme.spacing(0.5),
    color: theme.palette.text.secondary,
    fontWeight: 600,
    letterSpacing: '0.06em',
    textTransform: 'uppercase',
  },
}));

/** A titled part of a stage card, a region named by its title. */
export function StageSection(props: {
  title: string;
  children: React.ReactNode;
}) {
  const classes = useStyles();
  return (
    <section aria-label={props.title}>
      <Typography variant="overline" component="h4" className={classes.label}>
        {props.title}
      </Typography>
      {props.children}
    </section>
  );
}
