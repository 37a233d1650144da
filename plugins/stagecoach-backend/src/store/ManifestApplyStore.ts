import type { LastApplied, ManifestApply, ManifestChanges } from '@stagecoach/plugin-stagecoach-common';
import { Knex } from 'knex';

/** How many applies are kept per project; older ones are deleted as new ones come. */
export const KEPT_APPLIES_PER_PROJECT = 100;

interface ManifestApplyRow {
  id: number;
  project: string;
  applied_at: string;
  applied_by: string | null;
  revision: string | null;
  digest: string;
  pruned: boolean | number;
  changes_json: string;
}

/** One apply to record: who, when, from which revision, and what it changed. */
export interface NewManifestApply {
  project: string;
  at: string;
  by?: string;
  revision?: string;
  digest: string;
  pruned: boolean;
  changes: ManifestChanges;
}

const toApply = (r: ManifestApplyRow): ManifestApply => ({
  project: r.project,
  at: r.applied_at,
  ...(r.applied_by ? { by: r.applied_by } : {}),
  ...(r.revision ? { revision: r.revision } : {}),
  digest: r.digest,
  pruned: Boolean(r.pruned),
  changes: JSON.parse(r.changes_json) as ManifestChanges,
});

/** Whether an apply changed nothing at all. */
export function changesNothing(c: ManifestChanges): boolean {
  const none = (r: ManifestChanges['warehouses']) => !r.added.length && !r.changed.length && !r.removed.length;
  return none(c.warehouses) && none(c.stages) && !c.projectConfig && (!c.credentials || none(c.credentials)) && (!c.configMaps || none(c.configMaps));
}

/** Who applied which manifests to a project (table stagecoach_manifest_applies), newest first. */
export class ManifestApplyStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Records an apply, unless it repeats the last one exactly (same digest, actor and revision)
   * and changed nothing: a backend restart applying its app-config manifests again, or a
   * retried request, is not news. Keeps the newest KEPT_APPLIES_PER_PROJECT.
   */
  async record(apply: NewManifestApply): Promise<void> {
    const last: ManifestApplyRow | undefined = await this.knex('stagecoach_manifest_applies')
      .where({ project: apply.project })
      .orderBy('id', 'desc')
      .first();
    if (
      last &&
      changesNothing(apply.changes) &&
      last.digest === apply.digest &&
      (last.applied_by ?? undefined) === apply.by &&
      (last.revision ?? undefined) === apply.revision
    ) {
      return;
    }
    await this.knex('stagecoach_manifest_applies').insert({
      project: apply.project,
      applied_at: apply.at,
      applied_by: apply.by ?? null,
      revision: apply.revision ?? null,
      digest: apply.digest,
      pruned: apply.pruned,
      changes_json: JSON.stringify(apply.changes),
    });
    const keep = this.knex('stagecoach_manifest_applies')
      .where({ project: apply.project })
      .orderBy('id', 'desc')
      .limit(KEPT_APPLIES_PER_PROJECT)
      .select('id');
    await this.knex('stagecoach_manifest_applies').where({ project: apply.project }).whereNotIn('id', keep).delete();
  }

  /** The project's applies, newest first. */
  async list(project: string, limit = 20): Promise<ManifestApply[]> {
    const rows: ManifestApplyRow[] = await this.knex('stagecoach_manifest_applies')
      .where({ project })
      .orderBy('id', 'desc')
      .limit(Math.min(limit, KEPT_APPLIES_PER_PROJECT));
    return rows.map(toApply);
  }

  /** The project's last apply, as `GET /projects/{p}` shows it. */
  async last(project: string): Promise<LastApplied | undefined> {
    const [apply] = await this.list(project, 1);
    return apply ? { at: apply.at, ...(apply.by ? { by: apply.by } : {}), ...(apply.revision ? { revision: apply.revision } : {}) } : undefined;
  }
}
