import type { Knex } from 'knex';
import type { ManifestResourceChanges } from '@stagecoach/plugin-stagecoach-common';
import type { ConfigMapDefinition } from '../manifests/configMaps';

interface ConfigMapRow {
  project: string;
  name: string;
  data_json: string;
  updated_at: string;
}

const TABLE = 'stagecoach_project_config_maps';

/** A project's config maps (table stagecoach_project_config_maps): the ConfigMaps of its manifests, for `configMap()`. */
export class ConfigMapStore {
  constructor(private readonly knex: Knex) {}

  /** The project's config maps, name → data. */
  async all(project: string): Promise<Map<string, Record<string, string>>> {
    const rows: ConfigMapRow[] = await this.knex(TABLE).where({ project }).orderBy('name');
    return new Map(rows.map(r => [r.name, JSON.parse(r.data_json) as Record<string, string>]));
  }

  /** What replacing the project's config maps with `next` would change, by name. */
  async diff(project: string, next: readonly ConfigMapDefinition[]): Promise<ManifestResourceChanges> {
    const old = await this.all(project);
    const json = (d: Record<string, string>) => JSON.stringify(Object.entries(d).sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      added: next.filter(c => !old.has(c.name)).map(c => c.name),
      changed: next.filter(c => old.has(c.name) && json(old.get(c.name)!) !== json(c.data)).map(c => c.name),
      removed: [...old.keys()].filter(n => !next.some(c => c.name === n)).sort(),
    };
  }

  /** Makes `next` the project's config maps (inside the apply's transaction, after `diff`'s removals are checked against prune). */
  async replace(project: string, next: readonly ConfigMapDefinition[], changes: ManifestResourceChanges, now: string): Promise<void> {
    const keep = next.map(c => c.name);
    await this.knex(TABLE).where({ project }).whereNotIn('name', keep.length ? keep : ['']).delete();
    const touched = new Set([...changes.added, ...changes.changed]);
    for (const c of next) {
      if (!touched.has(c.name)) continue;
      const row: ConfigMapRow = { project, name: c.name, data_json: JSON.stringify(c.data), updated_at: now };
      await this.knex(TABLE).insert(row).onConflict(['project', 'name']).merge();
    }
  }
}
