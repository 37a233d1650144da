import { ConflictError } from '@backstage/errors';
import type { ClusterManifestApply, ClusterManifestChanges, LastApplied } from '@stagecoach/plugin-stagecoach-common';
import type { Knex } from 'knex';
import { CLUSTER_CONFIG_NAME, ClusterConfigSpec } from '../manifests/clusterConfig';
import type { ClusterManifests } from '../manifests/clusterManifests';
import type { PromotionTaskSpec } from '../manifests/schemas';

/** How many cluster applies are kept; older ones are deleted as new ones come. */
export const KEPT_CLUSTER_APPLIES = 100;

const TASK = 'ClusterPromotionTask';
const CONFIG = 'ClusterConfig';
const CONFIG_MAP = 'ConfigMap';
const SECRET = 'Secret';

/** A shared generic Secret as stored: its values sealed (credentials/ProjectCredentials.sealShared), never in clear. */
export interface SealedSharedSecret {
  name: string;
  keyId: string;
  sealed: string;
  /** Tells a changed Secret from an unchanged one (an HMAC, not the values). */
  fingerprint: string;
}

interface ResourceRow {
  kind: string;
  name: string;
  spec_json: string;
  applied_at: string;
}

interface ApplyRow {
  id: number;
  applied_at: string;
  applied_by: string | null;
  revision: string | null;
  digest: string;
  pruned: boolean | number;
  merged: boolean | number;
  changes_json: string;
}

/** A cluster resource as stored, with when its spec was applied. */
export interface StoredClusterResource<Spec> {
  name: string;
  spec: Spec;
  appliedAt: string;
}

/** The cluster scope as stored. */
export interface StoredClusterScope {
  tasks: StoredClusterResource<PromotionTaskSpec>[];
  config?: StoredClusterResource<ClusterConfigSpec>;
  /** The shared ConfigMaps' data. */
  configMaps: StoredClusterResource<Record<string, string>>[];
  /** The shared generic Secrets' names (their values stay sealed here). */
  secrets: { name: string; appliedAt: string }[];
}

/** An apply would remove cluster resources the set does not define, and prune was not asked. */
export class ClusterPruneRequiredError extends ConflictError {
  constructor(readonly wouldRemove: string[]) {
    super(
      `applying these cluster manifests would remove ${wouldRemove.join(', ')}, which they do not define; nothing was applied. ` +
        'To remove them, apply again with ?prune=true (stages that call a removed ClusterPromotionTask keep their steps until their project is applied again); ' +
        'to keep them, include their documents',
    );
  }
}

export interface ClusterApplyOptions {
  prune?: boolean;
  /** Add and update the set's resources and keep every other stored one (`?merge=true`); never with `prune`. */
  merge?: boolean;
  record: { by?: string; revision?: string; digest: string };
  /** The set's generic Secrets, sealed. */
  secrets?: readonly SealedSharedSecret[];
}

const toApply = (r: ApplyRow): ClusterManifestApply => ({
  at: r.applied_at,
  ...(r.applied_by ? { by: r.applied_by } : {}),
  ...(r.revision ? { revision: r.revision } : {}),
  digest: r.digest,
  pruned: Boolean(r.pruned),
  merged: Boolean(r.merged),
  changes: JSON.parse(r.changes_json) as ClusterManifestChanges,
});

const noChange = (r?: { added: string[]; changed: string[]; removed: string[] }) => !r || (!r.added.length && !r.changed.length && !r.removed.length);
const changesNothing = (c: ClusterManifestChanges) => !c.clusterConfig && noChange(c.clusterPromotionTasks) && noChange(c.configMaps) && noChange(c.secrets);

/** Whether a stored row holds what a new one would: a Secret by its fingerprint and key (each seal differs), the rest by spec. */
function sameContent(old: ResourceRow, next: ResourceRow): boolean {
  if (old.kind !== SECRET) return old.spec_json === next.spec_json;
  const [a, b] = [JSON.parse(old.spec_json), JSON.parse(next.spec_json)] as SealedSharedSecret[];
  return a.fingerprint === b.fingerprint && a.keyId === b.keyId;
}

/**
 * The cluster scope (tables stagecoach_cluster_resources and stagecoach_cluster_applies): the
 * ClusterPromotionTasks and the ClusterConfig as last applied, and who applied which set.
 */
export class ClusterStore {
  constructor(private readonly knex: Knex) {}

  /** Everything stored, tasks by name. */
  async scope(): Promise<StoredClusterScope> {
    const rows: ResourceRow[] = await this.knex('stagecoach_cluster_resources').orderBy(['kind', 'name']);
    const read = <S>(r: ResourceRow): StoredClusterResource<S> => ({ name: r.name, spec: JSON.parse(r.spec_json) as S, appliedAt: r.applied_at });
    const config = rows.find(r => r.kind === CONFIG);
    return {
      tasks: rows.filter(r => r.kind === TASK).map(r => read<PromotionTaskSpec>(r)),
      ...(config ? { config: read<ClusterConfigSpec>(config) } : {}),
      configMaps: rows.filter(r => r.kind === CONFIG_MAP).map(r => read<Record<string, string>>(r)),
      secrets: rows.filter(r => r.kind === SECRET).map(r => ({ name: r.name, appliedAt: r.applied_at })),
    };
  }

  /** The shared ConfigMaps, name → data: what `sharedConfigMap()` reads. */
  async configMaps(): Promise<Map<string, Record<string, string>>> {
    const rows: ResourceRow[] = await this.knex('stagecoach_cluster_resources').where({ kind: CONFIG_MAP }).orderBy('name');
    return new Map(rows.map(r => [r.name, JSON.parse(r.spec_json) as Record<string, string>]));
  }

  /** The shared generic Secrets, sealed: what `sharedSecret()` opens. */
  async secrets(): Promise<SealedSharedSecret[]> {
    const rows: ResourceRow[] = await this.knex('stagecoach_cluster_resources').where({ kind: SECRET }).orderBy('name');
    return rows.map(r => JSON.parse(r.spec_json) as SealedSharedSecret);
  }

  /** The ClusterPromotionTasks by name: what a project's stages may call. */
  async tasks(): Promise<Map<string, PromotionTaskSpec>> {
    const rows: ResourceRow[] = await this.knex('stagecoach_cluster_resources').where({ kind: TASK }).orderBy('name');
    return new Map(rows.map(r => [r.name, JSON.parse(r.spec_json) as PromotionTaskSpec]));
  }

  /** The ClusterConfig's spec, if one is applied. */
  async config(): Promise<ClusterConfigSpec | undefined> {
    const row: ResourceRow | undefined = await this.knex('stagecoach_cluster_resources').where({ kind: CONFIG, name: CLUSTER_CONFIG_NAME }).first();
    return row ? (JSON.parse(row.spec_json) as ClusterConfigSpec) : undefined;
  }

  /**
   * Makes the set the cluster scope, in one transaction, and records the apply (unless it
   * repeats the last one exactly and changed nothing). Removing what the set does not define
   * needs `prune` (ClusterPruneRequiredError otherwise); with `merge`, what the set does not
   * define stays as it is.
   */
  async apply(manifests: ClusterManifests, now: string, options: ClusterApplyOptions): Promise<ClusterManifestChanges> {
    return this.knex.transaction(async tx => {
      const old: ResourceRow[] = await tx('stagecoach_cluster_resources').select();
      const wanted: ResourceRow[] = [
        ...manifests.tasks.map(t => ({ kind: TASK, name: t.name, spec_json: JSON.stringify(t.spec), applied_at: now })),
        ...(manifests.config ? [{ kind: CONFIG, name: CLUSTER_CONFIG_NAME, spec_json: JSON.stringify(manifests.config), applied_at: now }] : []),
        ...manifests.configMaps.map(c => ({ kind: CONFIG_MAP, name: c.name, spec_json: JSON.stringify(c.data), applied_at: now })),
        ...(options.secrets ?? []).map(c => ({ kind: SECRET, name: c.name, spec_json: JSON.stringify(c), applied_at: now })),
      ];
      const key = (r: ResourceRow) => `${r.kind}/${r.name}`;
      const oldByKey = new Map(old.map(r => [key(r), r]));
      const wantedKeys = new Set(wanted.map(key));
      const removed = options.merge ? [] : old.filter(r => !wantedKeys.has(key(r)));
      if (removed.length > 0 && !options.prune) throw new ClusterPruneRequiredError(removed.map(key));

      const added = wanted.filter(r => !oldByKey.has(key(r)));
      const changed = wanted.filter(r => oldByKey.has(key(r)) && !sameContent(oldByKey.get(key(r))!, r));
      for (const r of removed) await tx('stagecoach_cluster_resources').where({ kind: r.kind, name: r.name }).delete();
      if (added.length) await tx('stagecoach_cluster_resources').insert(added);
      for (const r of changed) {
        await tx('stagecoach_cluster_resources').where({ kind: r.kind, name: r.name }).update({ spec_json: r.spec_json, applied_at: now });
      }

      const names = (rows: ResourceRow[], kind = TASK) => rows.filter(r => r.kind === kind).map(r => r.name);
      const ofKind = (kind: string) => ({ added: names(added, kind), changed: names(changed, kind), removed: names(removed, kind) });
      const configChange = [
        ['added', added],
        ['changed', changed],
        ['removed', removed],
      ].find(([, rows]) => (rows as ResourceRow[]).some(r => r.kind === CONFIG))?.[0] as ClusterManifestChanges['clusterConfig'];
      const changes: ClusterManifestChanges = {
        clusterPromotionTasks: { added: names(added), changed: names(changed), removed: names(removed) },
        ...(configChange ? { clusterConfig: configChange } : {}),
        ...(noChange(ofKind(CONFIG_MAP)) ? {} : { configMaps: ofKind(CONFIG_MAP) }),
        ...(noChange(ofKind(SECRET)) ? {} : { secrets: ofKind(SECRET) }),
      };
      await this.record(tx, now, { pruned: Boolean(options.prune), merged: Boolean(options.merge) }, options.record, changes);
      return changes;
    });
  }

  private async record(
    tx: Knex.Transaction,
    now: string,
    mode: { pruned: boolean; merged: boolean },
    who: ClusterApplyOptions['record'],
    changes: ClusterManifestChanges,
  ) {
    const last: ApplyRow | undefined = await tx('stagecoach_cluster_applies').orderBy('id', 'desc').first();
    const repeated =
      last && changesNothing(changes) && last.digest === who.digest && (last.applied_by ?? undefined) === who.by && (last.revision ?? undefined) === who.revision;
    if (repeated) return;
    await tx('stagecoach_cluster_applies').insert({
      applied_at: now,
      applied_by: who.by ?? null,
      revision: who.revision ?? null,
      digest: who.digest,
      ...mode,
      changes_json: JSON.stringify(changes),
    });
    const keep = tx('stagecoach_cluster_applies').orderBy('id', 'desc').limit(KEPT_CLUSTER_APPLIES).select('id');
    await tx('stagecoach_cluster_applies').whereNotIn('id', keep).delete();
  }

  /** The cluster applies, newest first. */
  async history(limit = 20): Promise<ClusterManifestApply[]> {
    const rows: ApplyRow[] = await this.knex('stagecoach_cluster_applies').orderBy('id', 'desc').limit(Math.min(limit, KEPT_CLUSTER_APPLIES));
    return rows.map(toApply);
  }

  /** The last apply, as `GET /cluster/manifests` shows it. */
  async lastApplied(): Promise<LastApplied | undefined> {
    const [apply] = await this.history(1);
    return apply ? { at: apply.at, ...(apply.by ? { by: apply.by } : {}), ...(apply.revision ? { revision: apply.revision } : {}) } : undefined;
  }
}
