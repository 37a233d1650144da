import type { Knex } from 'knex';
import type { ManifestResourceChanges } from '@stagecoach/plugin-stagecoach-common';
import type { CredentialType } from '../manifests/secrets';

/** A project credential as stored: its values sealed (credentials/sealing.ts), never in clear. */
export interface StoredCredential {
  project: string;
  name: string;
  type: CredentialType;
  repoURL?: string;
  repoURLIsRegex: boolean;
  /** Which key sealed it. */
  keyId: string;
  sealed: string;
  /** Tells a changed credential from an unchanged one (an HMAC, not the values). */
  fingerprint: string;
  updatedAt: string;
}

interface CredentialRow {
  project: string;
  name: string;
  type: string;
  repo_url: string | null;
  repo_url_is_regex: boolean | number;
  key_id: string;
  sealed: string;
  fingerprint: string;
  updated_at: string;
}

const TABLE = 'stagecoach_project_credentials';

const toStored = (r: CredentialRow): StoredCredential => ({
  project: r.project,
  name: r.name,
  type: r.type as CredentialType,
  ...(r.repo_url !== null ? { repoURL: r.repo_url } : {}),
  repoURLIsRegex: Boolean(r.repo_url_is_regex),
  keyId: r.key_id,
  sealed: r.sealed,
  fingerprint: r.fingerprint,
  updatedAt: r.updated_at,
});

/** What identifies a credential's content, for telling changed from unchanged. */
const sameContent = (a: Omit<StoredCredential, 'updatedAt' | 'sealed' | 'keyId'>, b: StoredCredential) =>
  a.type === b.type && (a.repoURL ?? null) === (b.repoURL ?? null) && a.repoURLIsRegex === b.repoURLIsRegex && a.fingerprint === b.fingerprint;

/** A project's credentials (table stagecoach_project_credentials), sealed. */
export class CredentialStore {
  constructor(private readonly knex: Knex) {}

  /** The project's credentials, by name. */
  async list(project: string): Promise<StoredCredential[]> {
    const rows: CredentialRow[] = await this.knex(TABLE).where({ project }).orderBy('name');
    return rows.map(toStored);
  }

  /** The project's credentials of one type, by name: what a lookup chooses among. */
  async ofType(project: string, type: CredentialType): Promise<StoredCredential[]> {
    const rows: CredentialRow[] = await this.knex(TABLE).where({ project, type }).orderBy('name');
    return rows.map(toStored);
  }

  /** What replacing the project's credentials with `next` would change, by name. */
  async diff(project: string, next: readonly Omit<StoredCredential, 'updatedAt'>[]): Promise<ManifestResourceChanges> {
    const old = new Map((await this.list(project)).map(c => [c.name, c]));
    return {
      added: next.filter(c => !old.has(c.name)).map(c => c.name),
      changed: next.filter(c => old.has(c.name) && !sameContent(c, old.get(c.name)!)).map(c => c.name),
      removed: [...old.keys()].filter(n => !next.some(c => c.name === n)).sort(),
    };
  }

  /**
   * Makes `next` the project's credentials (call it inside the apply's transaction, after
   * checking `diff`'s removals against prune): unchanged ones are left as they are.
   */
  async replace(project: string, next: readonly Omit<StoredCredential, 'updatedAt'>[], now: string): Promise<void> {
    const old = new Map((await this.list(project)).map(c => [c.name, c]));
    const keep = next.map(c => c.name);
    await this.knex(TABLE)
      .where({ project })
      .whereNotIn('name', keep.length ? keep : [''])
      .delete();
    for (const c of next) {
      const existing = old.get(c.name);
      if (existing && sameContent(c, existing) && existing.keyId === c.keyId) continue;
      const row: CredentialRow = {
        project,
        name: c.name,
        type: c.type,
        repo_url: c.repoURL ?? null,
        repo_url_is_regex: c.repoURLIsRegex,
        key_id: c.keyId,
        sealed: c.sealed,
        fingerprint: c.fingerprint,
        updated_at: now,
      };
      await this.knex(TABLE).insert(row).onConflict(['project', 'name']).merge();
    }
  }
}
