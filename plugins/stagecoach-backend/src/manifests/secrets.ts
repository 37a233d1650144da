import type { ManifestKind } from './ManifestExtension';
import type { DocumentProblem } from './problems';
import { regexProblem } from '../util/safeRegex';

/**
 * Kargo's credentials: `v1` Secrets labelled `kargo.akuity.io/cred-type`, read into project
 * credentials. Their values are held only in memory here; messages name keys, never values.
 */

export const CRED_TYPE_LABEL = 'kargo.akuity.io/cred-type';
export const CREDENTIAL_TYPES = ['git', 'helm', 'image', 'generic'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** A credential as a Secret defines it, its values in clear: never logged, stored or shown as is. */
export interface CredentialDefinition {
  name: string;
  /** The Secret's position in the set, for problems found once the set is read (no encryption key). */
  document?: number;
  type: CredentialType;
  /** git, helm, image: the repository URL it is for, or a pattern of them (`repoURLIsRegex`). */
  repoURL?: string;
  repoURLIsRegex?: boolean;
  /** git, helm, image: what is sent (basic auth). */
  username?: string;
  password?: string;
  /** generic: every key of the Secret. */
  data?: Record<string, string>;
  /**
   * A Secret without the cred-type label (its `data` read, `type` generic): not a credential;
   * kept only when a ProjectConfig's webhook receiver names it, else skipped with a warning.
   */
  unlabelled?: boolean;
}

/** Why a Secret without the cred-type label, that no webhook receiver names, is skipped. */
export const UNLABELLED_SECRET_SKIPPED = `has no label ${CRED_TYPE_LABEL}, so it is not a Kargo credential: skipped`;

/** The keys of a Kargo credential Secret that Stagecoach reads (generic Secrets may have any). */
const TYPED_KEYS = ['repoURL', 'repoURLIsRegex', 'username', 'password'];
/** Keys Kargo reads that Stagecoach cannot use: said, rather than failing later at the host. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  sshPrivateKey: 'SSH keys are not supported: Stagecoach reaches Git over HTTP(S); use an https:// repoURL with username and password (a token)',
  githubAppClientID: 'GitHub App credentials are not supported: use username and password (a personal access or installation token)',
  githubAppID: 'GitHub App credentials are not supported: use username and password (a personal access or installation token)',
  githubAppInstallationID: 'GitHub App credentials are not supported: use username and password (a personal access or installation token)',
  githubAppPrivateKey: 'GitHub App credentials are not supported: use username and password (a personal access or installation token)',
  repoURLPattern: 'is not read: write the pattern in repoURL and add repoURLIsRegex: "true" (Kargo\'s keys)',
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `data.password`, `stringData["my key"]`. */
const keyPath = (field: string, key: string) => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${field}.${key}` : `${field}[${JSON.stringify(key)}]`);

/** The Secret's values: `data` (base64) decoded, then `stringData`, which wins as in Kubernetes. */
function readValues(fields: Readonly<Record<string, unknown>>, problems: DocumentProblem[]): Map<string, { value: string; path: string }> {
  const values = new Map<string, { value: string; path: string }>();
  for (const field of ['data', 'stringData'] as const) {
    const map = fields[field];
    if (map === undefined || map === null) continue;
    if (typeof map !== 'object' || Array.isArray(map)) {
      problems.push({ path: field, message: 'must be a mapping of keys to values' });
      continue;
    }
    for (const [key, raw] of Object.entries(map as Record<string, unknown>)) {
      const path = keyPath(field, key);
      if (typeof raw !== 'string') {
        // the value is not repeated: it may be the secret itself
        problems.push({ path, message: 'must be a string (quote it)' });
        continue;
      }
      if (field === 'data') {
        const compact = raw.replace(/\s+/g, '');
        if (!BASE64.test(compact)) {
          problems.push({ path, message: 'must be base64 (a Secret\'s data); write plain text under stringData' });
          continue;
        }
        values.set(key, { value: Buffer.from(compact, 'base64').toString('utf8'), path });
      } else values.set(key, { value: raw, path });
    }
  }
  return values;
}

/** Reads one credential Secret: the credential, or its problems. */
function readCredential(
  name: string,
  type: CredentialType,
  fields: Readonly<Record<string, unknown>>,
): { spec?: CredentialDefinition; problems: DocumentProblem[] } {
  const problems: DocumentProblem[] = [];
  const values = readValues(fields, problems);
  if (type === 'generic') {
    if (problems.length > 0) return { problems };
    return { spec: { name, type, data: Object.fromEntries([...values].map(([k, v]) => [k, v.value])) }, problems };
  }
  for (const [key, { path }] of values) {
    if (UNSUPPORTED_KEYS[key]) problems.push({ path, message: UNSUPPORTED_KEYS[key] });
    else if (!TYPED_KEYS.includes(key)) {
      problems.push({ path, message: `is not a key of a ${type} credential: use ${TYPED_KEYS.join(', ')} (or the cred-type generic for other values)` });
    }
  }
  const get = (key: string) => values.get(key)?.value;
  const repoURL = get('repoURL');
  if (!repoURL?.trim()) problems.push({ path: 'stringData.repoURL', message: `a ${type} credential needs the repository URL it is for (or a pattern, with repoURLIsRegex: "true")` });
  const isRegex = get('repoURLIsRegex');
  if (isRegex !== undefined && isRegex !== 'true' && isRegex !== 'false') {
    problems.push({ path: values.get('repoURLIsRegex')!.path, message: 'must be "true" or "false"' });
  }
  if (isRegex === 'true' && repoURL) {
    const problem = regexProblem(repoURL);
    if (problem) problems.push({ path: values.get('repoURL')!.path, message: problem });
  }
  for (const key of ['username', 'password']) {
    if (!get(key)) problems.push({ path: `stringData.${key}`, message: `a ${type} credential needs a ${key} (a token goes in password)` });
  }
  if (problems.length > 0) return { problems };
  return {
    spec: {
      name,
      type,
      repoURL: repoURL!.trim(),
      ...(isRegex === 'true' ? { repoURLIsRegex: true } : {}),
      username: get('username')!,
      password: get('password')!,
    },
    problems,
  };
}

/**
 * `v1` Secrets: those labelled `kargo.akuity.io/cred-type` are the project's credentials;
 * any other Secret is skipped (a warning of the apply), as Kargo would not read it either.
 */
export const secretKind: ManifestKind<CredentialDefinition> = {
  apiVersion: 'v1',
  kind: 'Secret',
  namespaced: true,
  read: ({ name, labels, fields }, { earlier }) => {
    const type = labels?.[CRED_TYPE_LABEL];
    if (type === undefined) {
      // a webhook receiver may name it (parseManifests decides): kept when its values read, else skipped as before
      const values = readValues(fields, []);
      if (earlier.some(e => e.name === name)) return { problems: [], skipped: UNLABELLED_SECRET_SKIPPED };
      return { problems: [], spec: { name, type: 'generic', unlabelled: true, data: Object.fromEntries([...values].map(([k, v]) => [k, v.value])) } };
    }
    if (!(CREDENTIAL_TYPES as readonly string[]).includes(type)) {
      return { problems: [{ path: `metadata.labels["${CRED_TYPE_LABEL}"]`, message: `must be ${CREDENTIAL_TYPES.slice(0, -1).join(', ')} or generic` }] };
    }
    const read = readCredential(name, type as CredentialType, fields);
    const twin = earlier.find(e => e.name === name);
    if (twin) return { problems: [...read.problems, { path: 'metadata.name', message: `Secret/${name} is already defined in document ${twin.document}` }] };
    return read;
  },
};
