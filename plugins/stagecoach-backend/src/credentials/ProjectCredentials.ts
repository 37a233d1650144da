import type { ManifestProblem, ProjectCredential } from '@stagecoach/plugin-stagecoach-common';
import type { CredentialDefinition, CredentialType } from '../manifests/secrets';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import type { CredentialStore, StoredCredential } from '../store/CredentialStore';
import type { GitCredentials, ScmApiAccess, ScmCredentials, ScmProviderKind } from '../integrations/scm/ScmCredentials';
import { defaultApiBaseUrl, guessProvider, parseRepoURL } from '../integrations/scm/repoUrl';
import type { CallOptions } from '../integrations/registry/RegistryClient';
import { pickCredential } from './matching';
import { CredentialSealer, ENCRYPTION_KEY_CONFIG } from './sealing';
import type { SecretSource } from '../expressions/dataFunctions';
import type { SealedSharedSecret } from '../store/ClusterStore';
import type { StoredReceiver } from '../store/WebhookReceiverStore';
import type { WebhookReceiverDefinition } from '../manifests/parseManifests';
import { createHash } from 'node:crypto';

/** What the cluster scope's Secrets are bound to in place of a project: no project has this name. */
const SHARED = '\0cluster';

/** Basic credentials as every consumer takes them. */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** A project's credential with the name of its Secret (never shown: the values). */
export interface NamedCredentials {
  name: string;
  credentials: BasicCredentials;
}

/** How messages name a project's credential (never its values): `credential Secret/repo of project "shop"`. */
export const describeCredential = (project: string, name: string) => `credential Secret/${name} of project "${project}"`;

/** What a sealed credential is bound to: a row moved to another project, name or type does not open. */
const boundTo = (project: string, name: string, type: string) => `${project}\0${name}\0${type}`;

/** What is sealed: the values, and nothing the row already says. */
const payloadOf = (d: CredentialDefinition) =>
  JSON.stringify(d.type === 'generic' ? { data: d.data ?? {} } : { username: d.username, password: d.password });

export interface ProjectCredentialsOptions {
  store: CredentialStore;
  /** app-config `stagecoach.credentials.encryptionKey`, base64; none: a set with credential Secrets is refused. */
  encryptionKey?: string;
  /**
   * Hosts (`host` or `host:port`) that may receive credentials over plain http:// besides
   * loopback ones (app-config `stagecoach.git.allowInsecureCredentials`).
   */
  insecureHosts?: readonly string[];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

/**
 * A project's credentials: sealed when its manifests are applied, chosen for a repository as
 * Kargo chooses them (credentials/matching.ts), and opened only for that project's discovery
 * and promotions. Nothing here logs, and no message carries a value.
 */
export class ProjectCredentials {
  private readonly sealer?: CredentialSealer;
  private readonly insecureHosts: ReadonlySet<string>;

  constructor(private readonly options: ProjectCredentialsOptions) {
    // a malformed key fails the backend's start, naming the config key (CredentialSealer.fromBase64)
    this.sealer = options.encryptionKey ? CredentialSealer.fromBase64(options.encryptionKey) : undefined;
    this.insecureHosts = new Set((options.insecureHosts ?? []).map(h => h.trim().toLowerCase()));
  }

  /**
   * The rows to store for a set's credentials. Without an encryption key, a set that has any
   * is refused: one problem per Secret, naming the config key.
   */
  seal(
    project: string,
    definitions: readonly (CredentialDefinition & { document?: number })[],
  ): Omit<StoredCredential, 'updatedAt'>[] {
    if (definitions.length === 0) return [];
    const sealer = this.sealer;
    if (!sealer) {
      const problems: ManifestProblem[] = definitions.map(d => ({
        document: d.document ?? 1,
        resource: `Secret/${d.name}`,
        path: `metadata.labels["kargo.akuity.io/cred-type"]`,
        message:
          `makes it a project credential, which is stored encrypted with the key in app-config ${ENCRYPTION_KEY_CONFIG}, ` +
          'and this backend has none: an administrator sets it (32 random bytes, base64: `openssl rand -base64 32`), or leave the Secret out of the manifests',
      }));
      throw new ManifestValidationError(problems);
    }
    return definitions.map(d => {
      const payload = payloadOf(d);
      return {
        project,
        name: d.name,
        type: d.type,
        ...(d.repoURL !== undefined ? { repoURL: d.repoURL } : {}),
        repoURLIsRegex: Boolean(d.repoURLIsRegex),
        keyId: sealer.keyId,
        sealed: sealer.seal(payload, boundTo(project, d.name, d.type)),
        fingerprint: sealer.fingerprint(`${d.type}\0${payload}`),
      };
    });
  }

  /** The project's credentials as the API shows them: never their values. */
  async list(project: string): Promise<ProjectCredential[]> {
    return (await this.options.store.list(project)).map(c => ({
      name: c.name,
      type: c.type,
      ...(c.repoURL !== undefined ? { repoURL: c.repoURL } : {}),
      ...(c.repoURLIsRegex ? { repoURLIsRegex: true } : {}),
      updatedAt: c.updatedAt,
    }));
  }

  /**
   * The project's credential of `type` for a repository (git, helm: its URL; image: its
   * repository name), or undefined when it has none that matches. Throws, naming the Secret
   * and never its values, when the credential cannot be opened or would go over plain HTTP.
   */
  async find(project: string, type: Exclude<CredentialType, 'generic'>, url: string): Promise<BasicCredentials | undefined> {
    return (await this.findNamed(project, type, url))?.credentials;
  }

  /** As find, with the Secret's name, for messages that say which credential a server refused. */
  async findNamed(project: string, type: Exclude<CredentialType, 'generic'>, url: string): Promise<NamedCredentials | undefined> {
    const chosen = pickCredential(await this.options.store.ofType(project, type), type, url);
    if (!chosen) return undefined;
    this.refuseOverPlainHttp(chosen.name, url);
    const values = this.open(chosen) as { username?: string; password?: string };
    return values.username && values.password
      ? { name: chosen.name, credentials: { username: values.username, password: values.password } }
      : undefined;
  }

  /**
   * The project's credential for an OCI repository (`host/path`, as the oci-* steps name it),
   * as a registry call takes it: its image Secret for the repository, else its helm Secret for
   * `oci://host/path` (a chart pushed to a registry), as discovery reads images and oci:// charts.
   */
  async forRegistry(project: string, repository: string): Promise<Pick<CallOptions, 'credentials' | 'credentialsName'> | undefined> {
    const own = (await this.findNamed(project, 'image', repository)) ?? (await this.findNamed(project, 'helm', `oci://${repository}`));
    return own && { credentials: own.credentials, credentialsName: describeCredential(project, own.name) };
  }

  /** A generic credential's values by the Secret's name (Kargo's `secret()`), or undefined. */
  async generic(project: string, name: string): Promise<Record<string, string> | undefined> {
    const found = (await this.options.store.ofType(project, 'generic')).find(c => c.name === name);
    return found ? ((this.open(found) as { data?: Record<string, string> }).data ?? {}) : undefined;
  }

  /** The project's generic Secrets for `secret()`: their names now, each opened when first asked for. */
  async genericSource(project: string): Promise<SecretSource> {
    const rows = await this.options.store.ofType(project, 'generic');
    return {
      names: rows.map(r => r.name),
      open: name => (this.open(rows.find(r => r.name === name)!) as { data?: Record<string, string> }).data ?? {},
    };
  }

  /**
   * The cluster scope's generic Secrets, sealed as a project's are (bound to the cluster
   * scope and their name); without an encryption key a set that has any is refused.
   */
  sealShared(definitions: readonly (CredentialDefinition & { document: number })[]): SealedSharedSecret[] {
    if (definitions.length === 0) return [];
    const sealer = this.sealer;
    if (!sealer) {
      throw new ManifestValidationError(
        definitions.map(d => ({
          document: d.document,
          resource: `Secret/${d.name}`,
          path: `metadata.labels["kargo.akuity.io/cred-type"]`,
          message: `makes it a shared Secret, which is stored encrypted with the key in app-config ${ENCRYPTION_KEY_CONFIG}, and this backend has none: an administrator sets it (\`openssl rand -base64 32\`)`,
        })),
      );
    }
    return definitions.map(d => {
      const payload = payloadOf(d);
      return {
        name: d.name,
        keyId: sealer.keyId,
        sealed: sealer.seal(payload, boundTo(SHARED, d.name, 'generic')),
        fingerprint: sealer.fingerprint(`shared\0${payload}`),
      };
    });
  }

  /**
   * The rows to store for a ProjectConfig's webhook receivers: each secret sealed (bound to the
   * project and receiver), and the receiver's URL path, a SHA-256 of project, name and secret
   * (a changed secret changes the URL, as in Kargo). Without an encryption key a set that has
   * receivers is refused.
   */
  sealReceivers(project: string, receivers: readonly WebhookReceiverDefinition[]): StoredReceiver[] {
    if (receivers.length === 0) return [];
    const sealer = this.sealer;
    if (!sealer) {
      throw new ManifestValidationError(
        receivers.map(r => ({
          document: 1,
          resource: `Secret/${r.secretName}`,
          path: 'stringData.secret',
          message: `is webhook receiver ${r.name}'s secret, which is stored encrypted with the key in app-config ${ENCRYPTION_KEY_CONFIG}, and this backend has none: an administrator sets it (\`openssl rand -base64 32\`)`,
        })),
      );
    }
    return receivers.map(r => ({
      project,
      name: r.name,
      provider: r.provider,
      secretName: r.secretName,
      pathHash: createHash('sha256').update(`${project}\0${r.name}\0${r.secret}`).digest('hex'),
      keyId: sealer.keyId,
      sealed: sealer.seal(r.secret, boundTo(project, r.name, 'webhook-receiver')),
    }));
  }

  /** A stored receiver's secret; throws naming the receiver (never the secret) when it cannot be opened. */
  receiverSecret(r: StoredReceiver): string {
    const sealer = this.sealer;
    const what = `webhook receiver ${r.name} of project "${r.project}"`;
    if (!sealer || sealer.keyId !== r.keyId) throw new Error(`${what} was stored with another key than app-config ${ENCRYPTION_KEY_CONFIG}: apply the project's manifests again`);
    return sealer.open(r.sealed, boundTo(r.project, r.name, 'webhook-receiver'));
  }

  /** The cluster scope's generic Secrets for `sharedSecret()`, from their sealed rows. */
  sharedSource(rows: readonly SealedSharedSecret[]): SecretSource {
    return {
      names: rows.map(r => r.name),
      open: name => {
        const row = rows.find(r => r.name === name)!;
        const stored = { ...row, project: SHARED, type: 'generic' as const, repoURLIsRegex: false, updatedAt: '' };
        return (this.open(stored) as { data?: Record<string, string> }).data ?? {};
      },
    };
  }

  /**
   * Git and SCM credentials for one project's promotions and discovery: its own git
   * credentials first (a matching Secret), then `fallback` (Backstage's integrations).
   */
  scmFor(project: string, fallback: ScmCredentials): ScmCredentials {
    return {
      git: async repoURL => {
        const own = await this.findNamed(project, 'git', repoURL);
        return own ? { ...own.credentials, from: describeCredential(project, own.name) } : fallback.git(repoURL);
      },
      api: async (repoURL, provider) => {
        const own = await this.find(project, 'git', repoURL);
        const configured = await fallback.api(repoURL, provider);
        if (!own) return configured;
        return apiAccessWith(own, repoURL, provider, configured);
      },
    };
  }

  private open(c: StoredCredential): unknown {
    const sealer = this.sealer;
    const what = c.project === SHARED ? `shared Secret/${c.name} of the cluster scope` : `credential Secret/${c.name} of project "${c.project}"`;
    if (!sealer) throw new Error(`${what} cannot be read: app-config ${ENCRYPTION_KEY_CONFIG} is not set (it was stored with a key)`);
    if (c.keyId !== sealer.keyId) {
      throw new Error(`${what} was stored with another key than app-config ${ENCRYPTION_KEY_CONFIG}: apply the project's manifests again`);
    }
    try {
      return JSON.parse(sealer.open(c.sealed, boundTo(c.project, c.name, c.type)));
    } catch (e) {
      throw new Error(`${what} ${(e as Error).message}: apply the project's manifests again`);
    }
  }

  private refuseOverPlainHttp(name: string, url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return; // an image repository name, a scp-like Git URL: no scheme, so not plain HTTP
    }
    if (parsed.protocol !== 'http:') return;
    const host = parsed.host.toLowerCase();
    if (LOOPBACK.test(parsed.hostname) || this.insecureHosts.has(host) || this.insecureHosts.has(parsed.hostname.toLowerCase())) return;
    throw new Error(
      `credential Secret/${name} is not sent over plain HTTP (${parsed.origin}): use an https:// URL, or list ${parsed.host} in stagecoach.git.allowInsecureCredentials`,
    );
  }
}

/** The SCM API with a project's git credential: the host's kind and API base as configured or guessed, the credential as its authorization. */
function apiAccessWith(
  own: GitCredentials,
  repoURL: string,
  provider: ScmProviderKind | undefined,
  configured: ScmApiAccess | undefined,
): ScmApiAccess | undefined {
  let loc;
  try {
    loc = parseRepoURL(repoURL);
  } catch {
    return configured;
  }
  const kind = provider ?? configured?.provider ?? guessProvider(loc.host);
  if (!kind) return configured;
  const apiBaseUrl = configured && configured.provider === kind ? configured.apiBaseUrl : defaultApiBaseUrl(kind, loc);
  const basic = `Basic ${Buffer.from(`${own.username}:${own.password}`).toString('base64')}`;
  // GitHub and GitLab take the token (the password) as a bearer token; Gitea and Bitbucket basic auth
  const authorization = kind === 'github' || kind === 'gitlab' ? `Bearer ${own.password}` : basic;
  return { provider: kind, apiBaseUrl, authorization };
}
