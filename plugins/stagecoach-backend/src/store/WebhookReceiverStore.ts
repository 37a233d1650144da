import type { Knex } from 'knex';
import type { ProjectReceiverProvider } from '../manifests/projectConfig';

/** A project's webhook receiver as stored: its secret sealed (credentials/ProjectCredentials.sealReceivers). */
export interface StoredReceiver {
  project: string;
  name: string;
  provider: ProjectReceiverProvider;
  secretName: string;
  /** The last segment of its URL, `/api/stagecoach/webhooks/<pathHash>`. */
  pathHash: string;
  keyId: string;
  sealed: string;
}

interface ReceiverRow {
  project: string;
  name: string;
  provider: string;
  secret_name: string;
  path_hash: string;
  key_id: string;
  sealed: string;
}

const TABLE = 'stagecoach_project_webhook_receivers';

const toStored = (r: ReceiverRow): StoredReceiver => ({
  project: r.project,
  name: r.name,
  provider: r.provider as ProjectReceiverProvider,
  secretName: r.secret_name,
  pathHash: r.path_hash,
  keyId: r.key_id,
  sealed: r.sealed,
});

/** The projects' webhook receivers (table stagecoach_project_webhook_receivers). */
export class WebhookReceiverStore {
  constructor(private readonly knex: Knex) {}

  async list(project: string): Promise<StoredReceiver[]> {
    const rows: ReceiverRow[] = await this.knex(TABLE).where({ project }).orderBy('name');
    return rows.map(toStored);
  }

  /** The receiver that answers at this path, if any. */
  async byPath(pathHash: string): Promise<StoredReceiver | undefined> {
    const row: ReceiverRow | undefined = await this.knex(TABLE).where({ path_hash: pathHash }).first();
    return row ? toStored(row) : undefined;
  }

  /** Makes `next` the project's receivers (inside the apply's transaction); an unchanged URL keeps its row. */
  async replace(project: string, next: readonly StoredReceiver[]): Promise<void> {
    const old = new Map((await this.list(project)).map(r => [r.name, r]));
    await this.knex(TABLE).where({ project }).delete();
    for (const r of next) {
      const kept = old.get(r.name);
      const row = kept && kept.pathHash === r.pathHash && kept.provider === r.provider && kept.keyId === r.keyId ? kept : r;
      await this.knex(TABLE).insert({
        project,
        name: row.name,
        provider: row.provider,
        secret_name: row.secretName,
        path_hash: row.pathHash,
        key_id: row.keyId,
        sealed: row.sealed,
      } satisfies ReceiverRow);
    }
  }
}
