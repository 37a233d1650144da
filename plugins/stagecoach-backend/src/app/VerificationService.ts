import { ConflictError } from '@backstage/errors';
import type { Verification } from '@stagecoach/plugin-stagecoach-common';
import type { Knex } from 'knex';
import type { ExprFunction } from '../expressions/expressions';
import type { FreightStore, StoredFreight } from '../store/FreightStore';
import type { PipelineStore } from '../store/PipelineStore';
import type { ClaimedPromotion } from '../store/PromotionStore';
import type { VerificationStore } from '../store/VerificationStore';
import { analysisForStage } from '../verification/forStage';
import type { Clock, Logger } from '../util/types';
import type { DomainEventBus } from './events/DomainEventBus';

export interface VerificationServiceOptions {
  /** `commitFrom`, `imageFrom`, … over the verified freight, for `${{ }}` in the stage's verification args. */
  artifactFunctions?: (freight: StoredFreight) => Record<string, ExprFunction>;
  /** `configMap()`, `sharedConfigMap()` over the project's data (read through `tx` when given), for the same args. */
  dataFunctions?: (project: string, tx?: Knex.Transaction) => Promise<Record<string, ExprFunction>>;
  pipelines: PipelineStore;
  freight: FreightStore;
  verifications: VerificationStore;
  events: DomainEventBus;
  clock: Clock;
  logger: Logger;
}

/** Verifications: asking again, aborting, ending those a change made moot, and their history. */
export class VerificationService {
  constructor(private readonly o: VerificationServiceOptions) {}

  /**
   * In the transaction that ends a promotion Succeeded: a control-flow stage (no steps) passes
   * its freight through verified, as Kargo does; any other stage queues a verification, which
   * starts once the stage is healthy and alone makes the freight verified there.
   */
  async promotionSucceeded(
    p: ClaimedPromotion,
    tx: Knex.Transaction,
  ): Promise<void> {
    const now = this.now();
    if (p.steps.length === 0) {
      await this.o.freight.markVerified(
        p.project,
        p.freightId,
        p.stage,
        now,
        tx,
      );
      return;
    }
    const stage = await this.o.pipelines
      .transacting(tx)
      .getStage(p.project, p.stage);
    const id = await this.o.verifications.create(
      {
        project: p.project,
        stage: p.stage,
        freightId: p.freightId,
        promotionId: p.id,
        createdBy: p.createdBy,
        ...analysisForStage(stage, await this.functionsOver(p.project, p.freightId, tx)),
      },
      now,
      `promotion ${p.id}`,
      tx,
    );
    // after the commit: the worker would not see the new verification before it
    setImmediate(() =>
      this.o.events.publish({
        type: 'VerificationQueued',
        project: p.project,
        stage: p.stage,
        verificationId: id,
      }),
    );
  }

  /** The artifact functions over one freight, for the verification's args. */
  private async functionsOver(project: string, freightId: string, tx?: Knex.Transaction) {
    const data = (await this.o.dataFunctions?.(project, tx)) ?? {};
    if (!this.o.artifactFunctions) return data;
    const store = tx ? this.o.freight.transacting(tx) : this.o.freight;
    return { ...this.o.artifactFunctions(await store.get(project, freightId)), ...data };
  }

  /** Verifies the stage's current freight again (Kargo's reverify): a new verification, which supersedes any in progress. */
  async reverify(
    project: string,
    stageName: string,
    actor?: string,
  ): Promise<Verification> {
    const stage = await this.o.pipelines.getStage(project, stageName);
    if (!stage.currentFreightId)
      throw new ConflictError(
        `stage ${stageName} has no freight to verify: promote some first`,
      );
    if ((stage.spec.promotionTemplate?.spec.steps.length ?? 0) === 0) {
      throw new ConflictError(
        `stage ${stageName} is a control-flow stage (no steps): its freight passes through verified, with nothing to verify`,
      );
    }
    const id = await this.o.verifications.create(
      {
        project,
        stage: stageName,
        freightId: stage.currentFreightId,
        createdBy: actor,
        ...analysisForStage(stage, await this.functionsOver(project, stage.currentFreightId)),
      },
      this.now(),
      `a re-verification by ${actor ?? 'an unnamed caller'}`,
    );
    this.o.logger.info(
      `verification ${id} of ${project}/${stageName} requested by ${
        actor ?? 'an unnamed caller'
      }`,
    );
    this.o.events.publish({
      type: 'VerificationQueued',
      project,
      stage: stageName,
      verificationId: id,
    });
    return this.o.verifications.get(project, id);
  }

  /** Aborts the stage's verification in progress; ConflictError when there is none. */
  async abort(
    project: string,
    stageName: string,
    actor: string,
  ): Promise<Verification> {
    await this.o.pipelines.getStage(project, stageName);
    const id = await this.o.verifications.requestAbort(
      project,
      stageName,
      actor,
      this.now(),
    );
    this.o.events.publish({
      type: 'VerificationAbortRequested',
      project,
      stage: stageName,
      verificationId: id,
      actor,
    });
    const v = await this.o.verifications.get(project, id);
    if (v.phase === 'Aborted') {
      this.o.events.publish({
        type: 'VerificationFinished',
        project,
        stage: stageName,
        verificationId: id,
        phase: v.phase,
      });
    }
    return v;
  }

  /**
   * Ends the stage's verifications in progress: what they judge is about to change (a
   * promotion starts) or is gone (the stage was removed). `by` says why, on each.
   */
  async supersede(project: string, stage: string, by: string): Promise<void> {
    const count = await this.o.verifications
      .supersedeActive(project, stage, this.now(), by)
      .catch(() => 0);
    if (count > 0)
      this.o.events.publish({
        type: 'VerificationsSuperseded',
        project,
        stage,
        count,
      });
  }

  async list(
    project: string,
    stageName: string,
    limit?: number,
  ): Promise<Verification[]> {
    await this.o.pipelines.getStage(project, stageName);
    return this.o.verifications.list(project, stageName, limit);
  }

  get(project: string, id: string): Promise<Verification> {
    return this.o.verifications.get(project, id);
  }

  private now(): string {
    return this.o.clock.now().toISOString();
  }
}
