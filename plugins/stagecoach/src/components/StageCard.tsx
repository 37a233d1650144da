import Button from '@material-ui/core/Button';
import Card from '@material-ui/core/Card';
import CardContent from '@material-ui/core/CardContent';
import CardHeader from '@material-ui/core/CardHeader';
import Chip from '@material-ui/core/Chip';
import Divider from '@material-ui/core/Divider';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type {
  Freight,
  Promotion,
  Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { FreightVersions } from './FreightVersions';
import { PromotionSummary } from './PromotionSummary';
import { sourcesLabel } from './format';

const useStyles = makeStyles(theme => ({
  card: {
    height: '100%',
    display: 'flex',
    flexDirection: 'column',
  },
  header: {
    paddingBottom: theme.spacing(1),
  },
  title: {
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
  },
  action: {
    alignSelf: 'center',
    marginTop: 0,
    marginRight: 0,
  },
  content: {
    flexGrow: 1,
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(2),
  },
  label: {
    display: 'block',
    marginBottom: theme.spacing(0.5),
    color: theme.palette.text.secondary,
    fontWeight: 600,
    letterSpacing: '0.06em',
    textTransform: 'uppercase',
  },
  alias: {
    fontFamily: 'monospace',
    fontWeight: 600,
    marginBottom: theme.spacing(0.5),
  },
}));

function Section(props: { title: string; children: React.ReactNode }) {
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

/** One stage: what it holds, where its freight comes from, its last promotion. */
export function StageCard(props: {
  stage: Stage;
  /** The pipeline's freight, to show the versions of the stage's current freight. */
  freight: Freight[];
  /** The promotion to show; defaults to the stage's last one. */
  promotion?: Promotion;
  now?: number;
  onPromote(stage: Stage): void;
  onAbort?(promotion: Promotion): void;
}) {
  const classes = useStyles();
  const { stage, now, onPromote } = props;
  const promotion = props.promotion ?? stage.lastPromotion;
  const current = stage.currentFreight
    ? props.freight.find(f => f.id === stage.currentFreight!.id)
    : undefined;

  return (
    <Card
      variant="outlined"
      className={classes.card}
      data-testid={`stage-${stage.name}`}
      component="article"
      aria-label={`Stage ${stage.name}`}
    >
      <CardHeader
        className={classes.header}
        classes={{ action: classes.action }}
        disableTypography
        title={
          <Typography variant="h6" component="h3" className={classes.title}>
            {stage.name}
            {stage.stepCount === 0 && (
              <Chip component="span" size="small" label="control flow" />
            )}
          </Typography>
        }
        subheader={
          <Typography variant="body2" color="textSecondary">
            {sourcesLabel(stage.requestedFreight)}
          </Typography>
        }
        action={
          <Button
            variant="outlined"
            color="primary"
            size="small"
            aria-label={`Promote to ${stage.name}`}
            onClick={() => onPromote(stage)}
          >
            Promote
          </Button>
        }
      />
      <Divider />
      <CardContent className={classes.content}>
        <Section title="Current freight">
          {stage.currentFreight ? (
            <>
              <Typography variant="body1" className={classes.alias}>
                {stage.currentFreight.alias}
              </Typography>
              {current && <FreightVersions freight={current} />}
            </>
          ) : (
            <Typography variant="body2" color="textSecondary">
              Nothing promoted here yet.
            </Typography>
          )}
        </Section>
        <Section title="Last promotion">
          {promotion ? (
            <PromotionSummary
              promotion={promotion}
              now={now}
              onAbort={props.onAbort}
            />
          ) : (
            <Typography variant="body2" color="textSecondary">
              No promotions yet.
            </Typography>
          )}
        </Section>
      </CardContent>
    </Card>
  );
}
