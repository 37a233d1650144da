import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import type {
  Freight,
  Promotion,
  Stage,
  Verification,
} from '@stagecoach/plugin-stagecoach-common';
import { useCallback, useState } from 'react';
import { errorMessage, stagecoachApiRef } from '../../api';
import type { PipelineState } from '../shared/usePipeline';

/**
 * Everything a stage card can do, and the dialogs it opens. Each action tells the user how it
 * went (a snackbar), shows what the API answered at once and has the pipeline reloaded.
 */
export interface StageActions {
  /** The stage whose promote dialog is open. */
  promoteTo?: Stage;
  /** The freight chosen beforehand for that dialog (from the freight timeline), if any. */
  promoteFreight?: Freight;
  openPromote(stage: Stage, freight?: Freight): void;
  closePromote(): void;
  /** The promote dialog queued a promotion: closes the dialog and shows it. */
  promoted(promotion: Promotion): void;
  /** The promote dialog approved freight for its stage. */
  approved(): void;
  abortPromotion(promotion: Promotion): Promise<void>;
  /** Releases the stage's auto-promotion hold of one warehouse. */
  resumeAutoPromotion(stage: Stage, origin: string): Promise<void>;
  /** True while the hold of that stage and warehouse is being released. */
  isResuming(stage: string, origin: string): boolean;
  reverify(stage: Stage): Promise<void>;
  abortVerification(stage: Stage, verification: Verification): Promise<void>;
  /** True while the stage's verification is being started again or aborted. */
  isVerificationBusy(stage: string): boolean;
  /**
   * The stage whose verification details are open, by name: the dialog follows the stage as
   * the pipeline is reloaded.
   */
  detailsOf?: string;
  openVerificationDetails(stage: Stage): void;
  closeVerificationDetails(): void;
}

const resumeKey = (stage: string, origin: string) =>
  `resume:${stage}:${origin}`;
const verificationKey = (stage: string) => `verification:${stage}`;

/** The actions on the stages of one project, for the entity tab's stage cards. */
export function useStageActions(
  project: string,
  pipeline: Pick<PipelineState, 'refresh' | 'addPromotion' | 'updateStage'>,
): StageActions {
  const alertApi = useApi(alertApiRef);
  const api = useApi(stagecoachApiRef);
  const { refresh, addPromotion, updateStage } = pipeline;
  const [promoteTo, setPromoteTo] = useState<Stage>();
  const [promoteFreight, setPromoteFreight] = useState<Freight>();
  const [detailsOf, setDetailsOf] = useState<string>();
  /** The actions under way, by key: their buttons say so and take no second click. */
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());

  const whilePending = useCallback(
    async (key: string, action: () => Promise<void>) => {
      setPending(p => new Set(p).add(key));
      try {
        await action();
      } finally {
        setPending(p => {
          const next = new Set(p);
          next.delete(key);
          return next;
        });
      }
    },
    [],
  );

  const promoted = (promotion: Promotion) => {
    setPromoteTo(undefined);
    addPromotion(promotion);
    alertApi.post({
      message: `Promotion of ${promotion.freight.alias} to ${promotion.stage} queued`,
      severity: 'success',
      display: 'transient',
    });
  };

  const abortPromotion = async (promotion: Promotion) => {
    try {
      const result = await api.abortPromotion(project, promotion.id);
      addPromotion(result);
      alertApi.post({
        message:
          result.phase === 'Aborted'
            ? `Promotion of ${result.freight.alias} to ${result.stage} aborted`
            : `Aborting the promotion of ${result.freight.alias} to ${result.stage}: its running step is being stopped`,
        severity: 'info',
        display: 'transient',
      });
    } catch (e) {
      alertApi.post({
        message: `Could not abort: ${errorMessage(e)}`,
        severity: 'error',
      });
    }
  };

  const resumeAutoPromotion = (stage: Stage, origin: string) =>
    whilePending(resumeKey(stage.name, origin), async () => {
      try {
        updateStage(
          await api.releaseAutoPromotionHold(project, stage.name, origin),
        );
        alertApi.post({
          message: `Auto-promotion of ${stage.name} resumed`,
          severity: 'success',
          display: 'transient',
        });
      } catch (e) {
        alertApi.post({
          message: `Could not resume auto-promotion of ${
            stage.name
          }: ${errorMessage(e)}`,
          severity: 'error',
        });
      }
    });

  // the stage as the card showed it, with the verification the API answered
  const withVerification = (stage: Stage, verification: Verification) =>
    updateStage({ ...stage, verification });

  const reverify = (stage: Stage) =>
    whilePending(verificationKey(stage.name), async () => {
      try {
        const verification = await api.reverify(project, stage.name);
        withVerification(stage, verification);
        alertApi.post({
          message: `Verification of ${verification.freight.alias} in ${stage.name} started`,
          severity: 'success',
          display: 'transient',
        });
      } catch (e) {
        alertApi.post({
          message: `Could not verify ${stage.name} again: ${errorMessage(e)}`,
          severity: 'error',
        });
      }
    });

  const abortVerification = (stage: Stage, verification: Verification) =>
    whilePending(verificationKey(stage.name), async () => {
      try {
        const result = await api.abortVerification(project, stage.name);
        withVerification(stage, result);
        alertApi.post({
          message:
            result.phase === 'Aborted'
              ? `Verification of ${result.freight.alias} in ${stage.name} aborted`
              : `Aborting the verification of ${result.freight.alias} in ${stage.name}: its running measurements are being stopped`,
          severity: 'info',
          display: 'transient',
        });
      } catch (e) {
        alertApi.post({
          message: `Could not abort the verification of ${
            verification.freight.alias
          } in ${stage.name}: ${errorMessage(e)}`,
          severity: 'error',
        });
      }
    });

  return {
    promoteTo,
    promoteFreight,
    openPromote: (stage, freight) => {
      setPromoteTo(stage);
      setPromoteFreight(freight);
    },
    closePromote: () => setPromoteTo(undefined),
    promoted,
    approved: refresh,
    abortPromotion,
    resumeAutoPromotion,
    isResuming: (stage, origin) => pending.has(resumeKey(stage, origin)),
    reverify,
    abortVerification,
    isVerificationBusy: stage => pending.has(verificationKey(stage)),
    detailsOf,
    openVerificationDetails: stage => setDetailsOf(stage.name),
    closeVerificationDetails: () => setDetailsOf(undefined),
  };
}
