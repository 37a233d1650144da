import type { PipelineSource } from '@stagecoach/plugin-stagecoach-common';
import { Knex } from 'knex';

const TABLE = 'stagecoach_catalog_pipelines';

interface CatalogPipelineRow {
  project: string;
  entity_ref: string;
  pipeline_ref: string;
  managed: boolean | number;
  etag: string | null;
  revision: string | null;
  applied_at: string | null;
  checked_at: string | null;
  refused_revision: string | null;
  problems_json: string | null;
  error: string | null;
}

/** A project whose pipeline a catalog entity names: its owner, and what was applied or refused. */
export interface CatalogPipeline {
  project: string;
  /** The owning entity, `kind:namespace/name`. */
  entity: string;
  /** The annotation's value as last read. */
  ref: string;
  managed: boolean;
  /** The URL reader's ETag of what was last read (applied or refused): unchanged sources are not read again. */
  etag?: string;
  revision?: string;
  appliedAt?: string;
  checkedAt?: string;
  refusedRevision?: string;
  problems?: NonNullable<PipelineSource['problems']>;
  error?: string;
}

const toPipeline = (r: CatalogPipelineRow): CatalogPipeline => ({
  project: r.project,
  entity: r.entity_ref,
  ref: r.pipeline_ref,
  managed: Boolean(r.managed),
  ...(r.etag ? { etag: r.etag } : {}),
  ...(r.revision ? { revision: r.revision } : {}),
  ...(r.applied_at ? { appliedAt: r.applied_at } : {}),
  ...(r.checked_at ? { checkedAt: r.checked_at } : {}),
  ...(r.refused_revision ? { refusedRevision: r.refused_revision } : {}),
  ...(r.problems_json ? { problems: JSON.parse(r.problems_json) } : {}),
  ...(r.error ? { error: r.error } : {}),
});

/** Which entity owns which project's pipeline, and its state (table stagecoach_catalog_pipelines). */
export class CatalogPipelineStore {
  constructor(private readonly knex: Knex) {}

  async get(project: string): Promise<CatalogPipeline | undefined> {
    const row: CatalogPipelineRow | undefined = await this.knex(TABLE)
      .where({ project })
      .first();
    return row ? toPipeline(row) : undefined;
  }

  async list(): Promise<CatalogPipeline[]> {
    const rows: CatalogPipelineRow[] = await this.knex(TABLE).orderBy(
      'project',
    );
    return rows.map(toPipeline);
  }

  /** Writes the whole state of a project's row (the owner and what it last did). */
  async put(p: CatalogPipeline): Promise<void> {
    const row: CatalogPipelineRow = {
      project: p.project,
      entity_ref: p.entity,
      pipeline_ref: p.ref,
      managed: p.managed,
      etag: p.etag ?? null,
      revision: p.revision ?? null,
      applied_at: p.appliedAt ?? null,
      checked_at: p.checkedAt ?? null,
      refused_revision: p.refusedRevision ?? null,
      problems_json: p.problems?.length ? JSON.stringify(p.problems) : null,
      error: p.error ?? null,
    };
    await this.knex(TABLE).insert(row).onConflict('project').merge();
  }

  /** The project is no longer managed from the catalog: nothing else changes. */
  async release(project: string): Promise<void> {
    await this.knex(TABLE).where({ project }).update({ managed: false });
  }
}
