import type { ManifestChanges, ManifestRemovals, StageHealth } from '@stagecoach/plugin-stagecoach-common';
import { Knex } from 'knex';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { ProjectManifests, StageDefinition, WarehouseDefinition } from '../manifests/parseManifests';
import type { RunnableStageSpec, WarehouseSpec } from '../manifests/schemas';
import { StageRow, WarehouseRow } from './rows';
import type { ProjectConfigSpec } from '../manifests/projectConfig';
import type { AutoPromotionHoldRow, ProjectConfigRow, StageLabelsColumn } from './policyRows';
import { ManifestApplyStore } from './ManifestApplyStore';
import { CredentialStore, StoredCredential } from './CredentialStore';
import { ConfigMapStore } from './ConfigMapStore';
import { StoredReceiver, WebhookReceiverStore } from './WebhookReceiverStore';

export interface StoredWarehouse extends WarehouseDefinition {
  project: string;
  row: WarehouseRow;
}

export interface StoredStage extends StageDefinition {
  project: string;
  currentFreightId?: string;
  currentPromotionId?: string;
  /** The last health check. */
  health?: StageHealth;
}

export interface WarehouseDiscoveryUpdate {
  lastDiscoveryAt: string;
  nextDiscoveryAt: string;
  lastError: string | null;
  failureCount: number;
  observedRefsHash?: string | null;
  lastFreightId?: string | null;
  discovered?: unknown;
}

const toWarehouse = (row: WarehouseRow): StoredWarehouse => ({
  project: row.project,
  name: row.name,
  spec: JSON.parse(row.spec_json) as WarehouseSpec,
  row,
});

/** A stage's auto-promotion hold for one origin: a person promoted other freight by hand. */
export interface StoredHold {
  project: string;
  stage: string;
  /** The warehouse whose freight auto-promotion leaves alone. */
  origin: string;
  freightId: string;
  promotionId?: string;
  createdBy?: string;
  createdAt: string;
  reason: string;
}

const toHold = (r: AutoPromotionHoldRow): StoredHold => ({
  project: r.project,
  stage: r.stage,
  origin: r.origin,
  freightId: r.freight_id,
  promotionId: r.promotion_id ?? undefined,
  createdBy: r.created_by ?? undefined,
  createdAt: r.created_at,
  reason: r.reason,
});

const toHoldRow = (hold: StoredHold): AutoPromotionHoldRow => ({
  project: hold.project,
  stage: hold.stage,
  origin: hold.origin,
  freight_id: hold.freightId,
  promotion_id: hold.promotionId ?? null,
  created_by: hold.createdBy ?? null,
  created_at: hold.createdAt,
  reason: hold.reason,
});

/** How an apply may go, and what to record about it. */
export interface ApplyOptions {
  /** Remove the warehouses and stages the set does not define (`?prune=true`). */
  prune?: boolean;
  /** Record the apply (ManifestApplyStore): who, from which revision, the text's digest. */
  record?: { by?: string; revision?: string; digest: string };
  /**
   * The project's credentials, sealed (credentials/ProjectCredentials.seal): they replace the
   * stored ones in the same transaction, removals needing `prune` as stages do. Undefined:
   * the stored credentials are left alone.
   */
  credentials?: readonly Omit<StoredCredential, 'updatedAt'>[];
  /** The ProjectConfig's webhook receivers, sealed: they replace the stored ones. Undefined: left alone. */
  webhookReceivers?: readonly StoredReceiver[];
}

/**
 * An apply would remove warehouses or stages and was not allowed to (`?prune=true`):
 * a 409 that names them and says how to confirm.
 */
export class PruneRequiredError extends ConflictError {
  constructor(
    readonly project: string,
    readonly wouldRemove: ManifestRemovals,
  ) {
    const parts = [
      wouldRemove.warehouses.length ? `warehouses ${wouldRemove.warehouses.join(', ')}` : '',
      wouldRemove.stages.length ? `stages ${wouldRemove.stages.join(', ')}` : '',
      wouldRemove.credentials?.length ? `credentials (Secrets) ${wouldRemove.credentials.join(', ')}` : '',
      wouldRemove.configMaps?.length ? `ConfigMaps ${wouldRemove.configMaps.join(', ')}` : '',
    ].filter(Boolean);
    super(
      `applying these manifests would remove ${parts.join(' and ')} from project "${project}", which the manifests do not define; ` +
        'nothing was applied. To remove them, apply again with ?prune=true (their promotion history stays readable); ' +
        'to keep them, include their documents',
    );
  }
}

const labelsJson = (s: StageDefinition) => (s.labels && Object.keys(s.labels).length > 0 ? JSON.stringify(s.labels) : null);

/** What applying `manifests` changes, against the project's rows. */
function diffManifests(
  manifests: ProjectManifests,
  warehouses: WarehouseRow[],
  stages: Array<Pick<StageRow, 'name' | 'spec_json'> & StageLabelsColumn>,
  config: ProjectConfigRow | undefined,
): ManifestChanges {
  const diff = <T extends { name: string }>(next: T[], old: Map<string, string>, key: (d: T) => string) => ({
    added: next.filter(d => !old.has(d.name)).map(d => d.name),
    changed: next.filter(d => old.has(d.name) && old.get(d.name) !== key(d)).map(d => d.name),
    removed: [...old.keys()].filter(n => !next.some(d => d.name === n)).sort(),
  });
  const stageKey = (spec: string, labels: string | null | undefined) => `${spec}\n${labels ?? ''}`;
  const configJson = manifests.projectConfig ? JSON.stringify(manifests.projectConfig) : undefined;
  let projectConfig: ManifestChanges['projectConfig'];
  if (configJson && !config) projectConfig = 'added';
  else if (configJson && config!.spec_json !== configJson) projectConfig = 'changed';
  else if (!configJson && config) projectConfig = 'removed';
  return {
    warehouses: diff(manifests.warehouses, new Map(warehouses.map(w => [w.name, w.spec_json])), w => JSON.stringify(w.spec)),
    stages: diff(
      manifests.stages,
      new Map(stages.map(s => [s.name, stageKey(s.spec_json, s.labels_json)])),
      s => stageKey(JSON.stringify(s.spec), labelsJson(s)),
    ),
    ...(projectConfig ? { projectConfig } : {}),
  };
}

/** The names to keep, for `whereNotIn`: no name is empty, so `['']` keeps none when there are none. */
const namesOrNone = (names: string[]): string[] => (names.length ? names : ['']);

const toStage = (row: StageRow & StageLabelsColumn): StoredStage => ({
  project: row.project,
  name: row.name,
  ...(row.labels_json ? { labels: JSON.parse(row.labels_json) as Record<string, string> } : {}),
  spec: JSON.parse(row.spec_json) as RunnableStageSpec,
  currentFreightId: row.current_freight_id ?? undefined,
  currentPromotionId: row.current_promotion_id ?? undefined,
  ...(row.health_json ? { health: JSON.parse(row.health_json) as StageHealth } : {}),
});

/** Projects and their pipeline definitions: warehouses and stages as applied from manifests. */
export class PipelineStore {
  constructor(private readonly knex: Knex) {}

  /** The same store, writing inside a transaction. */
  transacting(tx: Knex.Transaction): PipelineStore {
    return new PipelineStore(tx);
  }

  /**
   * Replaces a project's warehouses and stages with the given set, in one transaction, and
   * records the apply (who, when, revision, what changed: ManifestApplyStore).
   * Discovery state of unchanged warehouses and the current freight of stages are kept;
   * new or changed warehouses are due for discovery at `now`. Warehouses and stages the set
   * does not define are removed only with `prune`; without it nothing is written and a
   * PruneRequiredError (409) names them. Promotions and verifications of a removed stage
   * stay readable: they belong to the project, not to the stage's row.
   */
  async applyManifests(manifests: ProjectManifests, now: string, options: ApplyOptions = {}): Promise<ManifestChanges> {
    const { project } = manifests;
    return this.knex.transaction(async tx => {
      await tx('stagecoach_projects')
        .insert({ name: project, created_at: now, updated_at: now })
        .onConflict('name')
        .merge(['updated_at']);

      const existing: WarehouseRow[] = await tx('stagecoach_warehouses').where({ project });
      const existingStages: Array<Pick<StageRow, 'name' | 'spec_json'> & StageLabelsColumn> = await tx('stagecoach_stages')
        .where({ project })
        .select('name', 'spec_json', 'labels_json');
      const oldConfig: ProjectConfigRow | undefined = await tx('stagecoach_project_configs').where({ project }).first();
      const changes = diffManifests(manifests, existing, existingStages, oldConfig);
      const credentialStore = new CredentialStore(tx);
      const credentials = options.credentials ? await credentialStore.diff(project, options.credentials) : undefined;
      if (credentials && (credentials.added.length || credentials.changed.length || credentials.removed.length)) {
        changes.credentials = credentials;
      }
      // a set read by parseManifests always has its ConfigMaps (none is none); one made by hand may leave them alone
      const configMapStore = new ConfigMapStore(tx);
      const configMaps = manifests.configMaps ? await configMapStore.diff(project, manifests.configMaps) : undefined;
      if (configMaps && (configMaps.added.length || configMaps.changed.length || configMaps.removed.length)) {
        changes.configMaps = configMaps;
      }
      if ((changes.warehouses.removed.length || changes.stages.removed.length || credentials?.removed.length || configMaps?.removed.length) && !options.prune) {
        throw new PruneRequiredError(project, {
          warehouses: changes.warehouses.removed,
          stages: changes.stages.removed,
          ...(credentials?.removed.length ? { credentials: credentials.removed } : {}),
          ...(configMaps?.removed.length ? { configMaps: configMaps.removed } : {}),
        });
      }
      if (options.credentials) await credentialStore.replace(project, options.credentials, now);
      if (manifests.configMaps && configMaps) await configMapStore.replace(project, manifests.configMaps, configMaps, now);
      if (options.webhookReceivers) await new WebhookReceiverStore(tx).replace(project, options.webhookReceivers);

      const byName = new Map(existing.map(w => [w.name, w]));
      const keepW = manifests.warehouses.map(w => w.name);
      await tx('stagecoach_warehouses').where({ project }).whereNotIn('name', namesOrNone(keepW)).delete();
      for (const w of manifests.warehouses) {
        const specJson = JSON.stringify(w.spec);
        const old = byName.get(w.name);
        if (!old) {
          await tx('stagecoach_warehouses').insert({
            project,
            name: w.name,
            spec_json: specJson,
            next_discovery_at: now,
            failure_count: 0,
          });
        } else if (old.spec_json !== specJson) {
          await tx('stagecoach_warehouses')
            .where({ project, name: w.name })
            .update({ spec_json: specJson, next_discovery_at: now, observed_refs_hash: null, failure_count: 0 });
        }
      }

      const keepS = manifests.stages.map(s => s.name);
      await tx('stagecoach_stages').where({ project }).whereNotIn('name', namesOrNone(keepS)).delete();
      await tx('stagecoach_auto_promotion_holds').where({ project }).whereNotIn('stage', namesOrNone(keepS)).delete();
      for (const s of manifests.stages) {
        await tx('stagecoach_stages')
          .insert({ project, name: s.name, spec_json: JSON.stringify(s.spec), labels_json: labelsJson(s) })
          .onConflict(['project', 'name'])
          .merge(['spec_json', 'labels_json']);
      }

      // the set is the whole pipeline: a set without a ProjectConfig removes the project's
      if (manifests.projectConfig) {
        await tx('stagecoach_project_configs')
          .insert({ project, spec_json: JSON.stringify(manifests.projectConfig), applied_at: now } satisfies ProjectConfigRow)
          .onConflict('project')
          .merge(['spec_json', 'applied_at']);
      } else {
        await tx('stagecoach_project_configs').where({ project }).delete();
      }

      if (options.record) {
        await new ManifestApplyStore(tx).record({ ...options.record, project, at: now, pruned: Boolean(options.prune), changes });
      }
      return changes;
    });
  }

  async listProjects(): Promise<Array<{ name: string; warehouses: number; stages: number }>> {
    const projects: { name: string }[] = await this.knex('stagecoach_projects').select('name').orderBy('name');
    const count = async (table: string) => {
      const rows: { project: string; n: number | string }[] = await this.knex(table)
        .select('project')
        .count({ n: '*' })
        .groupBy('project');
      return new Map(rows.map(r => [r.project, Number(r.n)]));
    };
    const [w, s] = await Promise.all([count('stagecoach_warehouses'), count('stagecoach_stages')]);
    return projects.map(p => ({ name: p.name, warehouses: w.get(p.name) ?? 0, stages: s.get(p.name) ?? 0 }));
  }

  async assertProject(project: string): Promise<void> {
    const row = await this.knex('stagecoach_projects').where({ name: project }).first();
    if (!row) throw new NotFoundError(`project "${project}" not found`);
  }

  async listWarehouses(project: string): Promise<StoredWarehouse[]> {
    const rows: WarehouseRow[] = await this.knex('stagecoach_warehouses').where({ project }).orderBy('name');
    return rows.map(toWarehouse);
  }

  async listAllWarehouses(): Promise<StoredWarehouse[]> {
    const rows: WarehouseRow[] = await this.knex('stagecoach_warehouses').orderBy(['project', 'name']);
    return rows.map(toWarehouse);
  }

  async getWarehouse(project: string, name: string): Promise<StoredWarehouse> {
    const row: WarehouseRow | undefined = await this.knex('stagecoach_warehouses').where({ project, name }).first();
    if (!row) throw new NotFoundError(`warehouse "${name}" not found in project "${project}"`);
    return toWarehouse(row);
  }

  /** Warehouses whose next discovery is due at `now`, oldest first. */
  async dueWarehouses(now: string, limit: number): Promise<StoredWarehouse[]> {
    const rows: WarehouseRow[] = await this.knex('stagecoach_warehouses')
      .where('next_discovery_at', '<=', now)
      .orderBy('next_discovery_at')
      .limit(limit);
    return rows.map(toWarehouse);
  }

  async requestDiscovery(project: string, name: string, now: string): Promise<void> {
    const n = await this.knex('stagecoach_warehouses').where({ project, name }).update({ next_discovery_at: now });
    if (n === 0) throw new NotFoundError(`warehouse "${name}" not found in project "${project}"`);
  }

  /** Records a discovery result; returns the number of rows written (0 when nothing changed). */
  async recordDiscovery(project: string, name: string, update: WarehouseDiscoveryUpdate): Promise<void> {
    const values: Partial<WarehouseRow> = {
      last_discovery_at: update.lastDiscoveryAt,
      next_discovery_at: update.nextDiscoveryAt,
      last_error: update.lastError,
      failure_count: update.failureCount,
    };
    if (update.observedRefsHash !== undefined) values.observed_refs_hash = update.observedRefsHash;
    if (update.lastFreightId !== undefined) values.last_freight_id = update.lastFreightId;
    if (update.discovered !== undefined) values.discovered_json = JSON.stringify(update.discovered);
    await this.knex('stagecoach_warehouses').where({ project, name }).update(values);
  }

  async listStages(project: string): Promise<StoredStage[]> {
    const rows: StageRow[] = await this.knex('stagecoach_stages').where({ project }).orderBy('name');
    return rows.map(toStage);
  }

  /** Every stage of every project (for the health checks). */
  async listAllStages(): Promise<StoredStage[]> {
    const rows: StageRow[] = await this.knex('stagecoach_stages').orderBy(['project', 'name']);
    return rows.map(toStage);
  }

  /** Records a stage's health check. */
  async setHealth(project: string, name: string, health: StageHealth): Promise<void> {
    await this.knex('stagecoach_stages').where({ project, name }).update({ health_json: JSON.stringify(health) });
  }

  async getStage(project: string, name: string): Promise<StoredStage> {
    const row: StageRow | undefined = await this.knex('stagecoach_stages').where({ project, name }).first();
    if (!row) throw new NotFoundError(`stage "${name}" not found in project "${project}"`);
    return toStage(row);
  }
  /** The project's ProjectConfig spec, or undefined when its manifests have none. */
  async getProjectConfig(project: string): Promise<ProjectConfigSpec | undefined> {
    const row: ProjectConfigRow | undefined = await this.knex('stagecoach_project_configs').where({ project }).first();
    return row ? (JSON.parse(row.spec_json) as ProjectConfigSpec) : undefined;
  }

  /** Every project's ProjectConfig spec, by project. */
  async listProjectConfigs(): Promise<Map<string, ProjectConfigSpec>> {
    const rows: ProjectConfigRow[] = await this.knex('stagecoach_project_configs').orderBy('project');
    return new Map(rows.map(r => [r.project, JSON.parse(r.spec_json) as ProjectConfigSpec]));
  }

  async listHolds(project: string, stage?: string): Promise<StoredHold[]> {
    const q = this.knex('stagecoach_auto_promotion_holds').where({ project }).orderBy(['stage', 'origin']);
    if (stage) q.andWhere({ stage });
    const rows: AutoPromotionHoldRow[] = await q;
    return rows.map(toHold);
  }

  /** Records (or replaces) the hold of a stage's origin. */
  async putHold(hold: StoredHold): Promise<void> {
    await this.knex('stagecoach_auto_promotion_holds')
      .insert(toHoldRow(hold))
      .onConflict(['project', 'stage', 'origin'])
      .merge(['freight_id', 'promotion_id', 'created_by', 'created_at', 'reason']);
  }

  /** Names the promotion that made a hold (written before the promotion existed). */
  async linkHold(project: string, stage: string, origin: string, freightId: string, promotionId: string): Promise<void> {
    await this.knex('stagecoach_auto_promotion_holds')
      .where({ project, stage, origin, freight_id: freightId })
      .whereNull('promotion_id')
      .update({ promotion_id: promotionId });
  }

  /** Removes a stage's holds (of one origin, or all); returns the holds removed. */
  async releaseHolds(project: string, stage: string, origin?: string): Promise<StoredHold[]> {
    return this.knex.transaction(async tx => {
      const q = () => {
        const b = tx('stagecoach_auto_promotion_holds').where({ project, stage });
        if (origin) b.andWhere({ origin });
        return b;
      };
      const rows: AutoPromotionHoldRow[] = await q();
      if (rows.length > 0) await q().delete();
      return rows.map(toHold);
    });
  }

  /**
   * Takes the lease on deciding a stage's auto-promotion until `expiresAt`, unless another
   * holder has an unexpired one. Both paths are single conditional statements, so of
   * several replicas racing, exactly one gets it.
   */
  async acquireLease(project: string, stage: string, holder: string, now: string, expiresAt: string): Promise<boolean> {
    const inserted = await this.knex('stagecoach_auto_promotion_leases')
      .insert({ project, stage, holder, expires_at: expiresAt })
      .onConflict(['project', 'stage'])
      .ignore()
      .returning('stage')
      .then(r => r.length > 0);
    if (inserted) return true;
    const taken = await this.knex('stagecoach_auto_promotion_leases')
      .where({ project, stage })
      .andWhere('expires_at', '<', now)
      .update({ holder, expires_at: expiresAt });
    return taken === 1;
  }

  async releaseLease(project: string, stage: string, holder: string): Promise<void> {
    await this.knex('stagecoach_auto_promotion_leases').where({ project, stage, holder }).delete();
  }
}
