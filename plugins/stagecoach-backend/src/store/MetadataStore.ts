import { Knex } from 'knex';
import { NotFoundError } from '@backstage/errors';

type Values = Record<string, unknown>;

/** A project's metadata at one moment: stages by name, freight by ID and by alias. */
export interface MetadataSnapshot {
  stages: ReadonlyMap<string, Record<string, unknown>>;
  freight: ReadonlyMap<string, Record<string, unknown>>;
}

/**
 * Metadata that promotions write on stages and freight (the set-metadata step) and that
 * expressions read back (stageMetadata(), freightMetadata()). Values are merged key by key.
 */
export class MetadataStore {
  constructor(private readonly knex: Knex) {}

  /** Merges values into a stage's or a freight's metadata (freight by ID or alias). */
  async set(project: string, kind: 'Stage' | 'Freight', name: string, values: Values): Promise<void> {
    await this.knex.transaction(async tx => {
      const [table, where] =
        kind === 'Stage'
          ? ['stagecoach_stages', (q: Knex.QueryBuilder) => q.where({ project, name })]
          : ['stagecoach_freight', (q: Knex.QueryBuilder) => q.where({ project }).andWhere(b => b.where({ id: name }).orWhere({ alias: name }))];
      const row: { metadata_json: string | null } | undefined = await where(tx(table)).first('metadata_json');
      if (!row) throw new NotFoundError(`${kind === 'Stage' ? 'stage' : 'freight'} "${name}" not found in project "${project}"`);
      const merged = { ...(row.metadata_json ? JSON.parse(row.metadata_json) : {}), ...values };
      await where(tx(table)).update({ metadata_json: JSON.stringify(merged) });
    });
  }

  /** Every stage's and freight's metadata in a project: freight under its ID and its alias. */
  async snapshot(project: string): Promise<MetadataSnapshot> {
    const [stages, freight] = await Promise.all([
      this.knex('stagecoach_stages').where({ project }).whereNotNull('metadata_json').select('name', 'metadata_json'),
      this.knex('stagecoach_freight').where({ project }).whereNotNull('metadata_json').select('id', 'alias', 'metadata_json'),
    ]);
    const freightMap = new Map<string, Values>();
    for (const f of freight) {
      const values = JSON.parse(f.metadata_json);
      freightMap.set(f.id, values);
      freightMap.set(f.alias, values);
    }
    return {
      stages: new Map(stages.map((s: { name: string; metadata_json: string }) => [s.name, JSON.parse(s.metadata_json)])),
      freight: freightMap,
    };
  }
}
