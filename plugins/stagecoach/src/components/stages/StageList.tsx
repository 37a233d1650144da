import Grid from '@material-ui/core/Grid';
import type {
  EntityPipeline,
  Promotion,
} from '@stagecoach/plugin-stagecoach-common';
import { PromoteDialog } from '../promotions/PromoteDialog';
import { newestPromotion, type PipelineState } from '../shared/usePipeline';
import { VerificationDialog } from '../verification/VerificationDialog';
import { StageCard } from './StageCard';
import { useStageActions } from './useStageActions';

/**
 * The entity tab's stages in pipeline order, one card each (as items of the tab's grid), and
 * the promote and verification dialogs their actions open.
 */
export function StageList(props: {
  pipeline: EntityPipeline;
  /** Promotions created on this page that the pipeline does not report yet, by stage. */
  created: Record<string, Promotion>;
  /** The entity's Argo CD apps; each card shows those its stage drives. */
  apps: NonNullable<EntityPipeline['apps']>;
  now: number;
  reload: Pick<PipelineState, 'refresh' | 'addPromotion' | 'updateStage'>;
}) {
  const { pipeline, created, apps, now, reload } = props;
  const actions = useStageActions(pipeline.project, reload);
  const detailsStage = actions.detailsOf
    ? pipeline.stages.find(s => s.name === actions.detailsOf)
    : undefined;

  return (
    <>
      {pipeline.stages.map(stage => (
        <Grid item xs={12} sm={6} lg={4} key={stage.name}>
          <StageCard
            stage={stage}
            freight={pipeline.freight}
            promotion={newestPromotion(
              stage.lastPromotion,
              created[stage.name],
            )}
            now={now}
            apps={apps.filter(a => a.stage === stage.name)}
            actions={actions}
          />
        </Grid>
      ))}
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
      {detailsStage && (
        <VerificationDialog
          project={pipeline.project}
          stage={detailsStage}
          now={now}
          onClose={actions.closeVerificationDetails}
        />
      )}
    </>
  );
}
