import type { ArgoCdAppHealth, StageHealth } from '@stagecoach/plugin-stagecoach-common';
import { checkArgoCdHealth, mergeHealth } from '../integrations/argocd/health';
import type { ArgoCdSettings } from '../integrations/argocd/types';
import type { KubeClusters } from '../integrations/kubernetes/types';
import type { PipelineStore, StoredStage } from '../store/PipelineStore';
import type { PromotionStore } from '../store/PromotionStore';
import { Clock, Logger } from '../util/types';

export interface StageHealthMonitorOptions {
  pipelines: PipelineStore;
  promotions: PromotionStore;
  kube: KubeClusters;
  argocd: ArgoCdSettings;
  clock: Clock;
  logger: Logger;
}

/**
 * A stage's health, made of what its last promotion touched: the Argo CD apps its
 * argocd-update steps drove, each synced to the revisions it asked for and healthy. A failed
 * last promotion makes the stage Degraded (whatever the apps say, it is not what was asked
 * for); a promotion in progress makes it Progressing. Checked before a verification starts
 * and on a schedule; the last check is kept with the stage and shown with its reason.
 */
export class StageHealthMonitor {
  constructor(private readonly options: StageHealthMonitorOptions) {}

  /** Checks one stage now and records the result; undefined for a stage never promoted. */
  async check(stage: StoredStage): Promise<StageHealth | undefined> {
    const health = await this.assess(stage);
    if (health) await this.options.pipelines.setHealth(stage.project, stage.name, health);
    return health;
  }

  /** Checks every stage that has been promoted (the scheduled task). Returns how many were checked. */
  async checkAll(): Promise<number> {
    let checked = 0;
    for (const stage of await this.options.pipelines.listAllStages()) {
      try {
        if (await this.check(stage)) checked++;
      } catch (e) {
        // one stage's trouble (its database row vanished) must not stop the others' checks
        this.options.logger.warn(`health check of ${stage.project}/${stage.name} failed: ${e instanceof Error ? e.message : e}`);
      }
    }
    return checked;
  }

  private async assess(stage: StoredStage): Promise<StageHealth | undefined> {
    const checkedAt = this.options.clock.now().toISOString();
    const last = await this.options.promotions.lastStarted(stage.project, stage.name);
    if (!last) return undefined;
    const at = (status: StageHealth['status'], reason: string, apps: ArgoCdAppHealth[] = []): StageHealth => ({
      status,
      reason,
      checkedAt,
      promotionId: last.id,
      apps,
    });
    if (last.phase === 'Running') {
      return at('Progressing', `promotion ${last.id} of freight ${last.freight.alias} is running`);
    }
    if (last.phase === 'Failed' || last.phase === 'Errored') {
      return at(
        'Degraded',
        `the last promotion (${last.id}, freight ${last.freight.alias}) ${last.phase.toLowerCase()}${last.message ? `: ${last.message}` : ''}; promote again once it is fixed`,
      );
    }
    if (last.phase === 'Aborted') {
      return at('Unknown', `the last promotion (${last.id}) was aborted, so what it changed may be half done; promote again`);
    }
    const checks = await this.options.promotions.healthChecks(last.id);
    if (checks.length === 0) {
      return at('Healthy', `the last promotion (${last.id}) succeeded and drove no Argo CD app, so there is nothing more to check`);
    }
    const apps: ArgoCdAppHealth[] = [];
    for (const c of checks) apps.push(...(await checkArgoCdHealth(this.options.kube, this.options.argocd, c)));
    const merged = mergeHealth(apps);
    return at(merged.status, merged.reason, apps);
  }
}
