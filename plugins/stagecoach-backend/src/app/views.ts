import type {
  Freight,
  Stage,
  Warehouse,
} from '@stagecoach/plugin-stagecoach-common';
import {
  mergeQuietCheck,
  DiscoveryService,
} from '../discovery/DiscoveryService';
import type { SubscriptionKinds } from '../discovery/SubscriptionKinds';
import { pipelineOrder } from '../manifests/parseManifests';
import { evaluateLinks } from './deepLinks';
import { PolicyContext, StagePolicies } from '../stages/StagePolicies';
import type { ClusterStore } from '../store/ClusterStore';
import { FreightStore, StoredFreight } from '../store/FreightStore';
import {
  PipelineStore,
  StoredStage,
  StoredWarehouse,
} from '../store/PipelineStore';
import { PromotionStore } from '../store/PromotionStore';
import { VerificationStore } from '../store/VerificationStore';

export interface ViewsOptions {
  pipelines: PipelineStore;
  freight: FreightStore;
  promotions: PromotionStore;
  verifications: VerificationStore;
  policies: StagePolicies;
  discovery: Pick<DiscoveryService, 'quietCheck'>;
  /** What warehouses subscribe to: the fields of a freight's artifacts, and their labels. */
  kinds: SubscriptionKinds;
  /** The cluster scope: its ClusterConfig's stage links come before each project's. */
  cluster?: Pick<ClusterStore, 'config'>;
}

/** The ClusterConfig's links, then the ProjectConfig's, as Kargo lists them. */
function linksOf<L>(cluster: L[] | undefined, project: L[] | undefined): L[] {
  return [...(cluster ?? []), ...(project ?? [])];
}

/**
 * How stored warehouses, freight and stages look through the API: each joined with what the
 * other aggregates know of it (where freight is, why it may move, a stage's last promotion
 * and verification, a warehouse's last quiet look). One place, shared by the services.
 */
export class Views {
  constructor(private readonly o: ViewsOptions) {}

  freight(f: StoredFreight, ctx: PolicyContext): Freight {
    const facts = ctx.facts(f.id);
    const verifiedIn = [...facts.records.values()]
      .filter(r => r.verifiedAt)
      .map(r => r.stage);
    const status = this.o.policies.freightStatus(ctx, f);
    const head = {
      id: f.id,
      alias: f.alias,
      project: f.project,
      origin: { kind: 'Warehouse' as const, name: f.warehouse },
    } satisfies Partial<Freight>;
    const tail = {
      artifactLabels: this.o.kinds.labels(f.artifacts),
      createdAt: f.createdAt,
      currentlyIn: [...facts.currentlyIn].sort(),
      verifiedIn: verifiedIn.sort(),
      approvedFor: Object.keys(status.approvedFor).sort(),
      status,
    } satisfies Partial<Freight>;
    const freightLinks = linksOf(ctx.clusterConfig?.freightLinks, ctx.config?.freightLinks);
    const links = freightLinks.length ? { links: evaluateLinks(freightLinks, this.linkScope(f.project, f)) } : {};
    // between them each kind's field (commits, images, charts), typed by the API, not here
    return {
      ...head,
      ...this.o.kinds.artifactFields(f.artifacts),
      ...tail,
      ...links,
    } as Freight;
  }

  /**
   * What a ClusterConfig's or ProjectConfig's link's expressions see: `project`; `freight` (its id, also as Kargo's
   * `name`, alias, origin, createdAt and artifacts), null for a stage without freight; `stage`
   * for stage links; and commitFrom, imageFrom, chartFrom, … over that freight.
   */
  private linkScope(project: string, f: StoredFreight | undefined, stage?: Record<string, unknown>) {
    const freight = f
      ? {
          id: f.id,
          name: f.id,
          alias: f.alias,
          origin: { kind: 'Warehouse', name: f.warehouse },
          createdAt: f.createdAt,
          ...this.o.kinds.artifactFields(f.artifacts),
        }
      : null;
    return {
      values: { project, freight, ...(stage ? { stage } : {}) },
      functions: f ? this.o.kinds.expressionFunctions(f.artifacts, `freight ${f.alias}`) : {},
    };
  }

  warehouse(w: StoredWarehouse): Warehouse {
    const view: Warehouse = {
      project: w.project,
      name: w.name,
      interval: w.spec.interval,
      freightCreationPolicy: w.spec.freightCreationPolicy ?? 'Automatic',
      subscriptions: w.spec.subscriptions,
      status: {
        lastDiscoveryAt: w.row.last_discovery_at ?? undefined,
        nextDiscoveryAt: w.row.next_discovery_at ?? undefined,
        lastError: w.row.last_error ?? undefined,
        lastFreightId: w.row.last_freight_id ?? undefined,
        discovered: w.row.discovered_json
          ? JSON.parse(w.row.discovered_json)
          : undefined,
      },
    };
    const times = mergeQuietCheck(
      view.status,
      this.o.discovery.quietCheck(w.project, w.name),
    );
    return { ...view, status: { ...view.status, ...times } };
  }

  /** The stages, in pipeline order, with their current freight, holds, last promotion and verification. */
  async stages(project: string, stages: StoredStage[]): Promise<Stage[]> {
    const { promotions, pipelines, verifications, freight, policies } = this.o;
    const order = pipelineOrder(stages);
    const byName = new Map(stages.map(s => [s.name, s]));
    const [last, config, holds, latestVerifications, clusterConfig] = await Promise.all([
      promotions.lastPerStage(project),
      pipelines.getProjectConfig(project),
      pipelines.listHolds(project),
      verifications.latestPerStage(project),
      this.o.cluster?.config(),
    ]);
    const stageLinks = linksOf(clusterConfig?.stageLinks, config?.stageLinks);
    const freightIds = [
      ...new Set(
        [
          ...stages.map(s => s.currentFreightId),
          ...holds.map(h => h.freightId),
        ].filter((x): x is string => !!x),
      ),
    ];
    // read by ID in one query, however old the freight: a stage's version is never searched for
    const stored = new Map<string, StoredFreight>(
      (await freight.getMany(project, freightIds)).map(f => [f.id, f]),
    );
    const aliases = new Map<string, string>(
      freightIds.map(id => [id, stored.get(id)?.alias ?? id]),
    );
    return order.map(name => {
      const s = byName.get(name)!;
      return {
        project,
        name,
        requestedFreight: s.spec.requestedFreight.map(r => ({
          origin: r.origin,
          sources: {
            direct: !!r.sources.direct,
            stages: r.sources.stages ?? [],
            ...(r.sources.availabilityStrategy
              ? { availabilityStrategy: r.sources.availabilityStrategy }
              : {}),
            ...(r.sources.requiredSoakTime
              ? { requiredSoakTime: r.sources.requiredSoakTime }
              : {}),
            ...(r.sources.autoPromotionOptions
              ? { autoPromotionOptions: r.sources.autoPromotionOptions }
              : {}),
          },
        })),
        stepCount: s.spec.promotionTemplate?.spec.steps.length ?? 0,
        currentFreight: s.currentFreightId
          ? {
              id: s.currentFreightId,
              alias: aliases.get(s.currentFreightId) ?? s.currentFreightId,
            }
          : undefined,
        lastPromotion: last.get(name),
        ...policies.stageExtras(
          { config },
          s,
          holds,
          id => aliases.get(id) ?? id,
        ),
        ...(s.health ? { health: s.health } : {}),
        ...(latestVerifications.has(name)
          ? { verification: latestVerifications.get(name) }
          : {}),
        analysisTemplates: (s.spec.verification?.analysisTemplates ?? []).map(
          t => t.name,
        ),
        ...(stageLinks.length
          ? {
              links: evaluateLinks(
                stageLinks,
                this.linkScope(
                  project,
                  s.currentFreightId ? stored.get(s.currentFreightId) : undefined,
                  { name, project, labels: s.labels ?? {} },
                ),
              ),
            }
          : {}),
      };
    });
  }
}
