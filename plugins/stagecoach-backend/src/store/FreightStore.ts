import { Knex } from 'knex';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { Freight } from '@stagecoach/plugin-stagecoach-common';
import { FreightArtifacts, freightId, randomAlias } from '../discovery/freightIdentity';
import { FreightRow, FreightStageRow } from './rows';

export interface StoredFreight {
  project: string;
  id: string;
  alias: string;
  warehouse: string;
  artifacts: FreightArtifacts;
  createdAt: string;
}

const toFreight = (row: FreightRow): StoredFreight => ({
  project: row.project,
  id: row.id,
  alias: row.alias,
  warehouse: row.warehouse,
  artifacts: JSON.parse(row.artifacts_json),
  createdAt: row.created_at,
});

/** Freight, and where each freight has been verified. */
export class FreightStore {
  constructor(
    private readonly knex: Knex,
    private readonly newAlias: () => string = randomAlias,
  ) {}

  /** The same store, writing inside a transaction. */
  transacting(tx: Knex.Transaction): FreightStore {
    return new FreightStore(tx, this.newAlias);
  }

  /**
   * Stores freight for these artifacts unless it exists. Returns it and whether it was created.
   * Identical artifacts give the identical ID, so discovering them again writes nothing.
   * New freight gets `options.alias` when given (ConflictError when another freight has
   * it), else a random one; existing freight keeps its alias.
   */
  async ensure(
    project: string,
    warehouse: string,
    artifacts: FreightArtifacts,
    now: string,
    options: { alias?: string } = {},
  ): Promise<{ freight: StoredFreight; created: boolean }> {
    const id = freightId(warehouse, artifacts);
    if (options.alias) {
      const existing: FreightRow | undefined = await this.knex('stagecoach_freight').where({ project, id }).first();
      if (existing) return { freight: toFreight(existing), created: false };
      await this.assertAliasFree(project, options.alias);
    }
    // new freight is the common case: try the insert first, and look only when it is refused
    for (let attempt = 0; attempt < 20; attempt++) {
      const alias = options.alias ?? (attempt < 10 ? this.newAlias() : `${this.newAlias()}-${id.slice(0, 6)}`);
      const row: FreightRow = {
        project,
        id,
        alias,
        warehouse,
        artifacts_json: JSON.stringify(artifacts),
        created_at: now,
      };
      const inserted = await this.knex('stagecoach_freight')
        .insert(row)
        .onConflict()
        .ignore()
        .returning('id')
        .then(
          r => r.length > 0,
          () => false,
        );
      if (inserted) return { freight: toFreight(row), created: true };
      const raced: FreightRow | undefined = await this.knex('stagecoach_freight').where({ project, id }).first();
      if (raced) return { freight: toFreight(raced), created: false };
      if (options.alias) throw new ConflictError(`alias "${alias}" is already used in project "${project}"`);
      // the alias was taken: try another
    }
    throw new Error(`could not find a free alias for freight ${id} in project "${project}"`);
  }

  /** Finds freight by ID or alias. */
  async get(project: string, idOrAlias: string): Promise<StoredFreight> {
    const row: FreightRow | undefined = await this.knex('stagecoach_freight')
      .where({ project })
      .andWhere(q => q.where({ id: idOrAlias }).orWhere({ alias: idOrAlias }))
      .first();
    if (!row) throw new NotFoundError(`freight "${idOrAlias}" not found in project "${project}"`);
    return toFreight(row);
  }

  async list(
    project: string,
    filter: { warehouses?: string[]; limit?: number } = {},
  ): Promise<StoredFreight[]> {
    const q = this.knex('stagecoach_freight').where({ project }).orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'asc' },
    ]);
    if (filter.warehouses) q.whereIn('warehouse', filter.warehouses);
    if (filter.limit) q.limit(filter.limit);
    const rows: FreightRow[] = await q;
    return rows.map(toFreight);
  }

  /** Gives freight a new alias; ConflictError when another freight of the project has it. */
  async setAlias(project: string, idOrAlias: string, alias: string): Promise<StoredFreight> {
    const f = await this.get(project, idOrAlias);
    if (f.alias === alias) return f;
    await this.assertAliasFree(project, alias);
    try {
      await this.knex('stagecoach_freight').where({ project, id: f.id }).update({ alias });
    } catch (e) {
      // lost a race for the same alias: the unique index says no
      throw new ConflictError(`alias "${alias}" is already used in project "${project}"`);
    }
    return { ...f, alias };
  }

  private async assertAliasFree(project: string, alias: string): Promise<void> {
    const taken: FreightRow | undefined = await this.knex('stagecoach_freight').where({ project, alias }).first();
    if (taken) throw new ConflictError(`alias "${alias}" is already used by freight ${taken.id} in project "${project}"`);
  }

  /**
   * Deletes all but the `keep` newest freight of a warehouse, never one a stage holds or a
   * promotion refers to. Returns the IDs deleted.
   */
  async collectGarbage(project: string, warehouse: string, keep: number): Promise<string[]> {
    const doomed: { id: string }[] = await this.knex('stagecoach_freight')
      .where({ project, warehouse })
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'asc' }])
      .offset(keep)
      .limit(10_000)
      .select('id');
    if (doomed.length === 0) return [];
    const ids = doomed.map(d => d.id);
    return this.knex.transaction(async tx => {
      const held: { id: string }[] = await tx('stagecoach_stages')
        .where({ project })
        .whereIn('current_freight_id', ids)
        .select({ id: 'current_freight_id' });
      const referenced: { id: string }[] = await tx('stagecoach_promotions')
        .where({ project })
        .whereIn('freight_id', ids)
        .distinct({ id: 'freight_id' });
      const keepIds = new Set([...held, ...referenced].map(r => r.id));
      const remove = ids.filter(id => !keepIds.has(id));
      if (remove.length > 0) {
        await tx('stagecoach_freight_stages').where({ project }).whereIn('freight_id', remove).delete();
        await tx('stagecoach_freight').where({ project }).whereIn('id', remove).delete();
      }
      return remove;
    });
  }

  async markVerified(project: string, freightIdValue: string, stage: string, now: string, tx: Knex = this.knex) {
    await tx('stagecoach_freight_stages')
      .insert({ project, freight_id: freightIdValue, stage, verified_at: now })
      .onConflict(['project', 'freight_id', 'stage'])
      .merge(['verified_at']);
  }

  /** freight ID -> stages it is verified in. */
  async verifiedIn(project: string, freightIds?: string[]): Promise<Map<string, string[]>> {
    const q = this.knex('stagecoach_freight_stages').where({ project }).whereNotNull('verified_at');
    if (freightIds) q.whereIn('freight_id', freightIds);
    const rows: FreightStageRow[] = await q;
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.freight_id, [...(out.get(r.freight_id) ?? []), r.stage]);
    return out;
  }

  /** Builds the API view, given where freight currently is and where it is verified. */
  static toView(
    f: StoredFreight,
    currentlyIn: string[],
    verifiedIn: string[],
  ): Freight {
    return {
      id: f.id,
      alias: f.alias,
      project: f.project,
      origin: { kind: 'Warehouse', name: f.warehouse },
      commits: f.artifacts.commits,
      images: f.artifacts.images,
      charts: f.artifacts.charts,
      createdAt: f.createdAt,
      currentlyIn: [...currentlyIn].sort(),
      verifiedIn: [...verifiedIn].sort(),
    };
  }
}
