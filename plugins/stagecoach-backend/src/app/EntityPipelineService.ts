import type {
  EntityPipeline,
  PipelineSource,
} from '@stagecoach/plugin-stagecoach-common';
import type { ArgoCdSettings } from '../integrations/argocd/types';
import {
  entityApps,
  EntityArgoCdAnnotations,
} from '../integrations/argocd/entityApps';
import type { KubeClusters } from '../integrations/kubernetes/types';
import type { PipelineStore } from '../store/PipelineStore';
import type { CatalogPipelineStore } from '../store/CatalogPipelineStore';
import { adoptionRefusal } from './catalogAdoption';
import type { FreightService } from './FreightService';
import type { Views } from './views';
import type { WarehouseService } from './WarehouseService';

export interface EntityPipelineServiceOptions {
  pipelines: PipelineStore;
  /** Projects whose pipeline a catalog entity names: the view's `source`. */
  catalogPipelines?: Pick<CatalogPipelineStore, 'get'>;
  /** Projects an administrator hands over to the catalog (`stagecoach.catalogPipelines.adopt`). */
  catalogAdopt?: readonly string[];
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
    entity?: EntityPipelineRef,
  ): Promise<EntityPipeline> {
    const { pipelines, views } = this.o;
    try {
      await pipelines.assertProject(project);
    } catch (e) {
      // a pipeline from the catalog refused before its first apply: the entity shows why
      const source = await this.source(project, entity, false);
      if (!source) throw e;
      return { project, stages: [], freight: [], warehouses: [], source };
    }
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
    const source = await this.source(project, entity, true);
    const relevant = (name: string) =>
      !warehouses?.length || warehouses.includes(name);
    return {
      project,
      stages: stageViews,
      freight: freight.filter(f => relevant(f.origin.name)),
      warehouses: allWarehouses.filter(w => relevant(w.name)),
      ...apps,
      ...(source ? { source } : {}),
    };
  }

  /**
   * Where the project's pipeline comes from, seen from one entity: the owner's state; for an
   * entity whose own pipeline-ref is refused because another entity owns the project, that refusal.
   */
  private async source(
    project: string,
    entity: EntityPipelineRef | undefined,
    projectExists: boolean,
  ): Promise<PipelineSource | undefined> {
    const owned = await this.o.catalogPipelines?.get(project);
    const refusal =
      this.o.catalogPipelines && entity?.pipelineRef && !owned?.managed
        ? adoptionRefusal({
            project,
            entity: entity.ref,
            pipelineRef: entity.pipelineRef,
            owned,
            projectExists,
            adopt: this.o.catalogAdopt ?? [],
          })
        : undefined;
    if (refusal) {
      // `entity`: whoever last managed it from the catalog, else the entity asking
      return {
        ref: entity!.pipelineRef!,
        entity: owned?.entity ?? entity!.ref,
        managed: false,
        error: refusal,
      };
    }
    if (
      owned &&
      entity?.pipelineRef &&
      owned.entity !== entity.ref &&
      owned.managed
    ) {
      return {
        ref: entity.pipelineRef,
        entity: owned.entity,
        managed: false,
        error: `project ${project} takes its pipeline from ${owned.entity}; this entity's ${entity.pipelineRef} is not applied`,
      };
    }
    if (!owned) return undefined;
    return {
      ref: owned.ref,
      entity: owned.entity,
      managed: owned.managed,
      ...(owned.revision ? { revision: owned.revision } : {}),
      ...(owned.appliedAt ? { appliedAt: owned.appliedAt } : {}),
      ...(owned.checkedAt ? { checkedAt: owned.checkedAt } : {}),
      ...(owned.refusedRevision
        ? { refusedRevision: owned.refusedRevision }
        : {}),
      ...(owned.problems?.length ? { problems: owned.problems } : {}),
      ...(owned.error ? { error: owned.error } : {}),
    };
  }
}

/** The entity a page is for: its ref and, when it has one, its `stagecoach.io/pipeline-ref`. */
export interface EntityPipelineRef {
  ref: string;
  pipelineRef?: string;
}
