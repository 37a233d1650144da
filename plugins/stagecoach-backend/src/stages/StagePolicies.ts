import type { AutoPromotionHold, FreightStatus, Stage } from '@stagecoach/plugin-stagecoach-common';
import type { ClusterConfigSpec } from '../manifests/clusterConfig';
import type { ProjectConfigSpec } from '../manifests/projectConfig';
import type { ClusterStore } from '../store/ClusterStore';
import type { FreightStageRecord, FreightStay, FreightStore, StoredFreight } from '../store/FreightStore';
import type { PipelineStore, StoredHold, StoredStage } from '../store/PipelineStore';
import type { Clock } from '../util/types';
import { Availability, freightAvailability, FreightFacts, longestSoak } from './qualification';
import { describeSelector, findPromotionPolicy } from './selectors';
import { goDuration } from './words';

/**
 * Everything availability, freight views and auto-promotion need about one project, read
 * once: its stages, its ProjectConfig, and for the freight in question their verifications,
 * approvals and stays.
 */
export interface PolicyContext {
  project: string;
  now: number;
  stages: StoredStage[];
  stage(name: string): StoredStage | undefined;
  config?: ProjectConfigSpec;
  /** The cluster scope's ClusterConfig: its links come before the project's in the views. */
  clusterConfig?: ClusterConfigSpec;
  facts(freightId: string): FreightFacts;
}

export interface AutoPromotionSetting {
  enabled: boolean;
  /** Which policy applies, in words. */
  policy?: string;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export class StagePolicies {
  constructor(
    private readonly options: {
      pipelines: PipelineStore;
      freight: FreightStore;
      clock: Clock;
      /** The cluster scope, for its ClusterConfig (none: no cluster-wide settings). */
      cluster?: Pick<ClusterStore, 'config'>;
    },
  ) {}

  /**
   * Reads a project's policy context. `freightIds` limits the facts read to that freight
   * (undefined: all of the project's); stages are read unless given.
   */
  async context(
    project: string,
    what: { freightIds?: string[]; stages?: StoredStage[] } = {},
  ): Promise<PolicyContext> {
    const { pipelines, freight } = this.options;
    const [stages, config, records, clusterConfig] = await Promise.all([
      what.stages ?? pipelines.listStages(project),
      pipelines.getProjectConfig(project),
      freight.stageRecords(project, what.freightIds),
      this.options.cluster?.config(),
    ]);
    const ids = what.freightIds ?? [...new Set(records.map(r => r.freightId))];
    const stays = await freight.stays(project, ids);
    const recordsOf = groupBy(records, r => r.freightId);
    const staysOf = groupBy(stays, s => s.freightId);
    const byName = new Map(stages.map(s => [s.name, s]));
    const cache = new Map<string, FreightFacts>();
    const facts = (id: string): FreightFacts => {
      let f = cache.get(id);
      if (!f) {
        f = buildFacts(id, recordsOf.get(id) ?? [], staysOf.get(id) ?? [], stages);
        cache.set(id, f);
      }
      return f;
    };
    return {
      project,
      now: this.options.clock.now().getTime(),
      stages,
      stage: n => byName.get(n),
      config,
      ...(clusterConfig ? { clusterConfig } : {}),
      facts,
    };
  }

  /** Whether freight may enter a stage now, and why (not). */
  availability(ctx: PolicyContext, stage: StoredStage, freight: StoredFreight): Availability {
    return freightAvailability(stage, freight, ctx.facts(freight.id), ctx.now);
  }

  /** Whether the project's ProjectConfig enables auto-promotion for a stage, and through which policy. */
  autoPromotion(ctx: Pick<PolicyContext, 'config'>, stage: { name: string; labels?: Record<string, string> }): AutoPromotionSetting {
    const policies = ctx.config?.promotionPolicies ?? [];
    const found = findPromotionPolicy(policies, stage);
    if (!found) return { enabled: false };
    return {
      enabled: !!found.policy.autoPromotionEnabled,
      policy: `spec.promotionPolicies[${found.index}] (${describeSelector(found.policy)})`,
    };
  }

  /** Per-stage details of a freight for its API view. */
  freightStatus(ctx: PolicyContext, freight: StoredFreight): FreightStatus {
    const facts = ctx.facts(freight.id);
    const status: FreightStatus = { currentlyIn: {}, verifiedIn: {}, approvedFor: {} };
    for (const stage of [...facts.currentlyIn].sort()) {
      const ongoing = (facts.stays.get(stage) ?? []).filter(s => s.endedAt === undefined);
      const since = ongoing.length > 0 ? ongoing[0].startedAt : undefined;
      status.currentlyIn[stage] = since ? { since } : {};
    }
    for (const [stage, r] of [...facts.records].sort(([a], [b]) => a.localeCompare(b))) {
      if (r.verifiedAt) {
        const ms = longestSoak(facts, stage, ctx.now)?.ms ?? 0;
        status.verifiedIn[stage] = { verifiedAt: r.verifiedAt, longestSoak: goDuration(ms), longestSoakSeconds: Math.floor(ms / 1000) };
      }
      if (r.approvedAt) status.approvedFor[stage] = { approvedAt: r.approvedAt, ...(r.approvedBy ? { approvedBy: r.approvedBy } : {}) };
    }
    return status;
  }

  /** The fields a stage view adds: labels, auto-promotion and holds. */
  stageExtras(
    ctx: Pick<PolicyContext, 'config'>,
    stage: StoredStage,
    holds: StoredHold[],
    aliasOf: (freightId: string) => string,
  ): Pick<Stage, 'labels' | 'autoPromotionEnabled' | 'autoPromotionPolicy' | 'autoPromotionHolds'> {
    const auto = this.autoPromotion(ctx, stage);
    return {
      ...(stage.labels ? { labels: stage.labels } : {}),
      autoPromotionEnabled: auto.enabled,
      ...(auto.policy ? { autoPromotionPolicy: auto.policy } : {}),
      autoPromotionHolds: holds.filter(h => h.stage === stage.name).map(h => holdView(h, aliasOf)),
    };
  }
}

export function holdView(h: StoredHold, aliasOf: (freightId: string) => string): AutoPromotionHold {
  return {
    origin: { kind: 'Warehouse', name: h.origin },
    freight: { id: h.freightId, alias: aliasOf(h.freightId) },
    ...(h.promotionId ? { promotionId: h.promotionId } : {}),
    ...(h.createdBy ? { createdBy: h.createdBy } : {}),
    createdAt: h.createdAt,
    reason: h.reason,
  };
}

function buildFacts(
  freightId: string,
  records: FreightStageRecord[],
  stays: FreightStay[],
  stages: StoredStage[],
): FreightFacts {
  const sorted = [...stays].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return {
    records: new Map(records.map(r => [r.stage, r])),
    stays: groupBy(sorted, s => s.stage),
    currentlyIn: new Set(stages.filter(s => s.currentFreightId === freightId).map(s => s.name)),
  };
}

/**
 * The freight of one warehouse that is in a stage now. A stage holds one freight, so this
 * is its current freight when that comes from the warehouse; for a stage fed by several
 * warehouses, the freight of this one that was promoted there last and not replaced since.
 */
export function freightInStage(
  ctx: PolicyContext,
  stage: StoredStage,
  origin: string,
  freightOfOrigin: readonly StoredFreight[],
): StoredFreight | undefined {
  const current = freightOfOrigin.find(f => f.id === stage.currentFreightId);
  if (current) return current;
  let best: { f: StoredFreight; since: string } | undefined;
  for (const f of freightOfOrigin) {
    if (f.warehouse !== origin) continue;
    for (const stay of ctx.facts(f.id).stays.get(stage.name) ?? []) {
      if (stay.endedAt === undefined && (!best || stay.startedAt > best.since)) best = { f, since: stay.startedAt };
    }
  }
  return best?.f;
}
