import type { EntityPipeline } from '@stagecoach/plugin-stagecoach-common';
import type { ArgoCdSettings } from '../integrations/argocd/types';
import {
  entityApps,
  EntityArgoCdAnnotations,
} from '../integrations/argocd/entityApps';
import type { KubeClusters } from '../integrations/kubernetes/types';
import type { PipelineStore } from '../store/PipelineStore';
import type { FreightService } from './FreightService';
import type { Views } from './views';
import type { WarehouseService } from './WarehouseService';

export interface EntityPipelineServiceOptions {
  pipelines: PipelineStore;
  freight: Pick<FreightService, 'listWithHeld'>;
  warehouses: Pick<WarehouseService, 'list'>;
  views: Views;
  kube: KubeClusters;
  argocd: ArgoCdSettings;
}

/** What one catalog entity's page shows of its project's pipeline. */
export class EntityPipelineService {
  constructor(private readonly o: EntityPipelineServiceOptions) {}

  /** The stages and freight one catalog entity shows: optionally limited to some warehouses. */
  async get(
    project: string,
    warehouses?: string[],
    argocd: EntityArgoCdAnnotations = {},
  ): Promise<EntityPipeline> {
    const { pipelines, views } = this.o;
    await pipelines.assertProject(project);
    let stages = await pipelines.listStages(project);
    if (warehouses?.length) {
      stages = stages.filter(s =>
        s.spec.requestedFreight.some(r => warehouses.includes(r.origin.name)),
      );
    }
    const [stageViews, freight, allWarehouses, apps] = await Promise.all([
      views.stages(project, stages),
      this.o.freight.listWithHeld(project, stages, 100),
      this.o.warehouses.list(project),
      entityApps(
        this.o.kube,
        this.o.argocd,
        project,
        new Set(stages.map(s => s.name)),
        argocd,
      ),
    ]);
    const relevant = (name: string) =>
      !warehouses?.length || warehouses.includes(name);
    return {
      project,
      stages: stageViews,
      freight: freight.filter(f => relevant(f.origin.name)),
      warehouses: allWarehouses.filter(w => relevant(w.name)),
      ...apps,
    };
  }
}
