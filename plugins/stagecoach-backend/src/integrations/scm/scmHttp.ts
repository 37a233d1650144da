import { Agent } from 'undici';
import { redactSecrets, redactValues } from '../../util/secrets';
import type { ScmProviderKind } from './ScmCredentials';
import { ScmApiError } from './ScmProvider';

export const PROVIDER_LABELS: Record<ScmProviderKind, string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  gitea: 'Gitea',
  bitbucketCloud: 'Bitbucket Cloud',
  bitbucketServer: 'Bitbucket Server',
};

/** The fields of each `integrations.<kind>` entry that hold its credentials, for messages. */
const CREDENTIAL_FIELDS: Record<ScmProviderKind, string> = {
  github: 'token (or apps)',
  gitlab: 'token',
  gitea: 'username and password',
  bitbucketCloud: 'username and appPassword (or token)',
  bitbucketServer: 'token (or username and password)',
};

/** What a pull-request token needs on each host, for 403 messages. */
const PERMISSIONS: Record<ScmProviderKind, string> = {
  github: 'a token needs "Pull requests: write" and "Contents: read" (fine-grained) or the repo scope (classic)',
  gitlab: 'a token needs the api scope and at least the Developer role',
  gitea: 'the user needs write access to the repository',
  bitbucketCloud: 'the app password or token needs the pullrequest:write scope',
  bitbucketServer: 'the token needs repository write permission',
};

const REQUEST_TIMEOUT_MS = 30_000;

export interface ScmHttpOptions {
  kind: ScmProviderKind;
  /** No trailing slash. */
  apiBaseUrl: string;
  authorization?: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
  insecureSkipTLSVerify?: boolean;
}

export interface ScmRequest {
  /** What the request is for, in words: `open a pull request in acme/app`. */
  what: string;
  /** An array value repeats the parameter. */
  query?: Record<string, string | number | string[] | undefined>;
  body?: unknown;
  /** Statuses (besides 2xx) the caller interprets itself instead of failing. */
  accept?: number[];
}

export interface ScmResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

let insecureAgent: Agent | undefined;

/** JSON over HTTP to one Git host's REST API, with errors a person can act on. */
export class ScmHttp {
  readonly label: string;
  private readonly secrets: string[];

  constructor(private readonly options: ScmHttpOptions) {
    this.label = PROVIDER_LABELS[options.kind];
    this.secrets = secretsOf(options.authorization);
  }

  get apiBaseUrl(): string {
    return this.options.apiBaseUrl;
  }

  async request<T = any>(method: string, path: string, req: ScmRequest): Promise<ScmResponse<T>> {
    const url = new URL(`${this.options.apiBaseUrl}${path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
    }
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.options.kind === 'github') {
      headers.Accept = 'application/vnd.github+json';
      headers['X-GitHub-Api-Version'] = '2022-11-28';
    }
    if (this.options.authorization) headers.Authorization = this.options.authorization;
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const init: RequestInit & { dispatcher?: Agent } = {
      method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout,
      redirect: 'follow',
    };
    if (this.options.insecureSkipTLSVerify) {
      insecureAgent ??= new Agent({ connect: { rejectUnauthorized: false } });
      init.dispatcher = insecureAgent;
    }
    let res: Response;
    try {
      res = await this.options.fetch(url, init);
    } catch (e) {
      if (this.options.signal?.aborted) throw e;
      throw this.unreachable(req.what, e, timeout.aborted);
    }
    const text = await res.text();
    const data = parseBody(text);
    if (res.ok || req.accept?.includes(res.status)) return { status: res.status, data: data as T, headers: res.headers };
    throw this.failure(req.what, res, data);
  }

  /** Removes anything of the configured credentials from text that came back from the host. */
  scrub(text: string): string {
    return redactValues(redactSecrets(text), this.secrets);
  }

  /** The host's own explanation in an error body, whatever shape the provider uses. */
  providerMessage(data: unknown): string | undefined {
    const found = messageIn(data);
    return found ? this.scrub(found).slice(0, 500) : undefined;
  }

  /** A status the caller accepted but cannot go on with: the host's words and what to do. */
  refusal(what: string, status: number, data: unknown, advice: string, retryable = false): ScmApiError {
    const said = this.providerMessage(data);
    const because = said ? ` (${this.label} says: ${said})` : '';
    return new ScmApiError(`${this.label}: could not ${what}: HTTP ${status}${because}; ${advice}`, status, retryable);
  }

  private failure(what: string, res: Response, data: unknown): ScmApiError {
    const { kind } = this.options;
    const host = new URL(this.options.apiBaseUrl).host;
    const hadAuth = Boolean(this.options.authorization);
    const said = this.providerMessage(data);
    const rateLimited =
      res.status === 429 || (res.status === 403 && (res.headers.get('x-ratelimit-remaining') === '0' || /rate limit/i.test(said ?? '')));
    let advice: string;
    if (rateLimited) advice = `${host} is rate limiting these requests; the step will try again later`;
    else if (res.status === 401) {
      advice = hadAuth
        ? `check integrations.${kind} ${CREDENTIAL_FIELDS[kind]} for ${host}`
        : `no credentials are configured for ${host}: set integrations.${kind} ${CREDENTIAL_FIELDS[kind]}`;
    } else if (res.status === 403) {
      advice = `the credentials of integrations.${kind} for ${host} are not allowed to ${what}: ${PERMISSIONS[kind]}`;
    } else if (res.status === 404) {
      advice = hadAuth
        ? `check repoURL (and the number), and that the credentials of integrations.${kind} for ${host} can see the repository`
        : `check repoURL (and the number); a private repository also needs integrations.${kind} ${CREDENTIAL_FIELDS[kind]} for ${host}`;
    } else if (res.status >= 500) advice = `${host} had a problem; the step will try again`;
    else advice = 'the request was refused';
    const because = said ? ` (${this.label} says: ${said})` : '';
    return new ScmApiError(
      `${this.label}: could not ${what}: HTTP ${res.status}${because}; ${advice}`,
      res.status,
      rateLimited || res.status >= 500,
    );
  }

  private unreachable(what: string, e: unknown, timedOut: boolean): ScmApiError {
    const base = this.options.apiBaseUrl;
    if (timedOut) {
      return new ScmApiError(`${this.label}: could not ${what}: ${base} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`, undefined, true);
    }
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new ScmApiError(
        `${this.label}: could not ${what}: the TLS certificate of ${base} could not be verified (${code}); for a host with a self-signed certificate set insecureSkipTLSVerify: true`,
        undefined,
        false,
      );
    }
    const detail = this.scrub(cause?.message ?? (e as Error).message ?? String(e));
    return new ScmApiError(`${this.label}: could not ${what}: ${base} could not be reached (${detail})`, undefined, true);
  }
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** GitHub, Gitea: {message, errors[]}; GitLab: {message: string|string[]|object} or {error}; Bitbucket: {error:{message}} or {errors[]}. */
function messageIn(data: unknown): string | undefined {
  if (typeof data === 'string') return data.trim() ? data.trim().split('\n')[0] : undefined;
  if (!data || typeof data !== 'object') return undefined;
  const d = data as Record<string, any>;
  const parts: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) parts.push(v.trim());
    else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.message === 'string') add(o.message);
      else if (typeof o.code === 'string' && typeof o.field === 'string') add(`${o.field} ${o.code}`);
      else for (const [k, inner] of Object.entries(o)) add(Array.isArray(inner) ? `${k} ${inner.join(', ')}` : inner);
    }
  };
  add(d.message);
  if (typeof d.error === 'string') add(d.error);
  else if (d.error && typeof d.error === 'object') add((d.error as Record<string, unknown>).message);
  add(d.errors);
  return parts.length ? [...new Set(parts)].join('; ') : undefined;
}

/** The secret parts of an Authorization header (the token; a basic header's decoded password too). */
function secretsOf(authorization: string | undefined): string[] {
  if (!authorization) return [];
  const [scheme, ...rest] = authorization.split(' ');
  const value = rest.join(' ');
  const secrets = [value];
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const password = decoded.slice(decoded.indexOf(':') + 1);
    secrets.push(decoded, password);
  }
  return secrets;
}
