import { Knex } from 'knex';
import { ConflictError, NotFoundError } from '@backstage/errors';
import { ArtifactReferences, FreightArtifacts, freightId, randomAlias } from './freightIdentity';
import { FreightRow, FreightStageRow } from './rows';
import type { FreightApprovalColumns } from './policyRows';
import type { FreightCursor } from './freightCursor';

export interface StoredFreight {
  project: string;
  id: string;
  alias: string;
  warehouse: string;
  artifacts: FreightArtifacts;
  createdAt: string;
}

/** IDs per `IN (...)` list: well under SQLite's and PostgreSQL's limits on bound parameters. */
const IN_LIST_MAX = 500;

async function inChunks<T>(ids: string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IN_LIST_MAX) out.push(...(await read(ids.slice(i, i + IN_LIST_MAX))));
  return out;
}

/** A LIKE pattern's text taken literally, with `!` as the escape character. */
function likeEscape(text: string): string {
  return text.replace(/[!%_]/g, c => `!${c}`);
}

/** How freight stands in one stage: verified, approved. */
export interface FreightStageRecord {
  freightId: string;
  stage: string;
  verifiedAt?: string;
  approvedAt?: string;
  approvedBy?: string;
}

/** A time freight spent in a stage: from the promotion that brought it to the one that replaced it. */
export interface FreightStay {
  freightId: string;
  stage: string;
  startedAt: string;
  /** Absent while the freight is still there. */
  endedAt?: string;
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
    /** The artifacts' references in the freight ID: the subscription kinds' (discovery/SubscriptionKinds). */
    private readonly references: ArtifactReferences,
    private readonly newAlias: () => string = randomAlias,
  ) {}

  /** The same store, writing inside a transaction. */
  transacting(tx: Knex.Transaction): FreightStore {
    return new FreightStore(tx, this.references, this.newAlias);
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
    const id = freightId(warehouse, this.references(artifacts));
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

  /**
   * One page of freight, newest first (created_at descending, id ascending), strictly after
   * `after` when given: keyset pagination, so freight stored meanwhile never shifts a page.
   * `q` matches, ignoring case, the alias, the ID's start or any text of the artifacts
   * (repository, image tag, commit, chart version); `ids` keeps only those freight;
   * `verifiedIn` only the freight verified in that stage; `mayEnter` only the freight that
   * could enter a stage (of a warehouse it takes directly, approved for it, or verified in one
   * of its upstream stages): a superset of what may enter, soak and `All` judged after.
   */
  async page(
    project: string,
    filter: {
      warehouses?: string[];
      q?: string;
      ids?: string[];
      verifiedIn?: string;
      mayEnter?: { stage: string; directWarehouses: string[]; upstream: string[] };
      after?: FreightCursor;
      limit: number;
    },
  ): Promise<StoredFreight[]> {
    const k = this.knex;
    const q = k('stagecoach_freight as f').where('f.project', project).orderBy([
      { column: 'f.created_at', order: 'desc' },
      { column: 'f.id', order: 'asc' },
    ]);
    if (filter.warehouses) q.whereIn('f.warehouse', filter.warehouses);
    if (filter.ids) {
      if (filter.ids.length === 0) return [];
      q.whereIn('f.id', filter.ids.slice(0, IN_LIST_MAX));
    }
    if (filter.q) {
      const pattern = `%${likeEscape(filter.q.toLowerCase())}%`;
      const prefix = `${likeEscape(filter.q.toLowerCase())}%`;
      q.where(b =>
        b
          .whereRaw("LOWER(f.alias) LIKE ? ESCAPE '!'", [pattern])
          .orWhereRaw("f.id LIKE ? ESCAPE '!'", [prefix])
          .orWhereRaw("LOWER(f.artifacts_json) LIKE ? ESCAPE '!'", [pattern]),
      );
    }
    if (filter.verifiedIn) {
      const stage = filter.verifiedIn;
      q.whereExists(function verified() {
        this.from('stagecoach_freight_stages as v')
          .whereRaw('v.project = f.project')
          .whereRaw('v.freight_id = f.id')
          .where('v.stage', stage)
          .whereNotNull('v.verified_at');
      });
    }
    if (filter.mayEnter) {
      const { stage, directWarehouses, upstream } = filter.mayEnter;
      const qualified = this.knex('stagecoach_freight_stages as m')
        .where('m.project', project)
        .where(c => {
          c.where(a => a.where('m.stage', stage).whereNotNull('m.approved_at'));
          if (upstream.length > 0) c.orWhere(v => v.whereIn('m.stage', upstream).whereNotNull('m.verified_at'));
        })
        .distinct('m.freight_id');
      // the qualified freight are usually few: read first, they make the page an index lookup
      // whatever the planner guesses (a semi-join probed per freight row when it has no statistics)
      const few: { freight_id: string }[] = await qualified.clone().limit(IN_LIST_MAX + 1);
      q.where(b => {
        if (directWarehouses.length > 0) b.whereIn('f.warehouse', directWarehouses);
        if (few.length <= IN_LIST_MAX) b.orWhereIn('f.id', few.map(r => r.freight_id));
        else b.orWhereIn('f.id', qualified);
      });
    }
    if (filter.after) {
      const { createdAt, id } = filter.after;
      q.where(b => b.where('f.created_at', '<', createdAt).orWhere(c => c.where('f.created_at', createdAt).andWhere('f.id', '>', id)));
    }
    const rows: FreightRow[] = await q.limit(filter.limit).select('f.*');
    return rows.map(toFreight);
  }

  /** Freight by ID (those that exist), in no particular order. */
  async getMany(project: string, ids: string[]): Promise<StoredFreight[]> {
    if (ids.length === 0) return [];
    return inChunks([...new Set(ids)], async chunk => {
      const rows: FreightRow[] = await this.knex('stagecoach_freight').where({ project }).whereIn('id', chunk);
      return rows.map(toFreight);
    });
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

  /**
   * Records that freight is verified in a stage. The first verification is kept (as Kargo
   * keeps it): soak is measured from it, and verifying again does not start the soak over.
   */
  async markVerified(project: string, freightIdValue: string, stage: string, now: string, tx: Knex = this.knex) {
    await tx('stagecoach_freight_stages')
      .insert({ project, freight_id: freightIdValue, stage, verified_at: now })
      .onConflict(['project', 'freight_id', 'stage'])
      .merge({ verified_at: tx.raw('COALESCE(stagecoach_freight_stages.verified_at, excluded.verified_at)') });
  }

  /**
   * Approves freight for a stage (it may enter unverified). Approving again keeps the first
   * approval; returns false then.
   */
  async approve(project: string, freightIdValue: string, stage: string, by: string | undefined, now: string): Promise<boolean> {
    await this.knex('stagecoach_freight_stages')
      .insert({ project, freight_id: freightIdValue, stage })
      .onConflict(['project', 'freight_id', 'stage'])
      .ignore();
    const n = await this.knex('stagecoach_freight_stages')
      .where({ project, freight_id: freightIdValue, stage })
      .whereNull('approved_at')
      .update({ approved_at: now, approved_by: by ?? null });
    return n === 1;
  }

  /** Verification and approval of freight per stage (all of the project's, or of some freight). */
  async stageRecords(project: string, freightIds?: string[]): Promise<FreightStageRecord[]> {
    if (freightIds && freightIds.length > IN_LIST_MAX) return inChunks(freightIds, ids => this.stageRecords(project, ids));
    const q = this.knex('stagecoach_freight_stages').where({ project });
    if (freightIds) q.whereIn('freight_id', freightIds);
    const rows: (FreightStageRow & FreightApprovalColumns)[] = await q;
    return rows.map(r => ({
      freightId: r.freight_id,
      stage: r.stage,
      verifiedAt: r.verified_at ?? undefined,
      approvedAt: r.approved_at ?? undefined,
      approvedBy: r.approved_by ?? undefined,
    }));
  }

  /**
   * The stays of freight in stages, from the promotion history: each successful promotion
   * of a freight into a stage starts a stay, which ends when a later successful promotion
   * brings other freight of the same warehouse there (ongoing when none has).
   */
  async stays(project: string, freightIds: string[]): Promise<FreightStay[]> {
    if (freightIds.length === 0) return [];
    if (freightIds.length > IN_LIST_MAX) return inChunks(freightIds, ids => this.stays(project, ids));
    const k = this.knex;
    const ended = k('stagecoach_promotions as q')
      .join('stagecoach_freight as qf', function on() {
        this.on('qf.project', '=', 'q.project').andOn('qf.id', '=', 'q.freight_id');
      })
      .whereRaw('q.project = p.project')
      .whereRaw('q.stage = p.stage')
      .where('q.phase', 'Succeeded')
      .whereRaw('q.finished_at > p.finished_at')
      .whereRaw('q.freight_id <> p.freight_id')
      .whereRaw('qf.warehouse = pf.warehouse')
      .min('q.finished_at')
      .as('ended_at');
    const rows: { stage: string; freight_id: string; started_at: string; ended_at: string | null }[] = await k(
      'stagecoach_promotions as p',
    )
      .join('stagecoach_freight as pf', function on() {
        this.on('pf.project', '=', 'p.project').andOn('pf.id', '=', 'p.freight_id');
      })
      .where('p.project', project)
      .where('p.phase', 'Succeeded')
      .whereNotNull('p.finished_at')
      .whereIn('p.freight_id', freightIds)
      .select('p.stage', 'p.freight_id', { started_at: 'p.finished_at' }, ended);
    return rows.map(r => ({
      freightId: r.freight_id,
      stage: r.stage,
      startedAt: r.started_at,
      endedAt: r.ended_at ?? undefined,
    }));
  }

  /**
   * The freight a stage holds, by warehouse (Kargo's freight collection): of each warehouse,
   * the freight of the last successful promotion into the stage, which stays there until a
   * later one brings other freight of that warehouse.
   */
  async heldInStage(project: string, stage: string): Promise<Map<string, StoredFreight>> {
    const k = this.knex;
    const latest = k('stagecoach_promotions as q')
      .join('stagecoach_freight as qf', function on() {
        this.on('qf.project', '=', 'q.project').andOn('qf.id', '=', 'q.freight_id');
      })
      .whereRaw('q.project = p.project')
      .whereRaw('q.stage = p.stage')
      .where('q.phase', 'Succeeded')
      .whereRaw('qf.warehouse = f.warehouse')
      .max('q.finished_at');
    const rows: (FreightRow & { finished_at: string })[] = await k('stagecoach_promotions as p')
      .join('stagecoach_freight as f', function on() {
        this.on('f.project', '=', 'p.project').andOn('f.id', '=', 'p.freight_id');
      })
      .where({ 'p.project': project, 'p.stage': stage, 'p.phase': 'Succeeded' })
      .where('p.finished_at', '=', latest)
      .select('f.*', 'p.finished_at');
    const held = new Map<string, StoredFreight>();
    for (const row of rows) held.set(row.warehouse, toFreight(row));
    return held;
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

  /** The phases of a freight's promotions to a stage, newest first. */
  async promotionPhases(project: string, stage: string, freightIdValue: string): Promise<string[]> {
    const rows: { phase: string }[] = await this.knex('stagecoach_promotions')
      .where({ project, stage, freight_id: freightIdValue })
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(50)
      .select('phase');
    return rows.map(r => r.phase);
  }
}
