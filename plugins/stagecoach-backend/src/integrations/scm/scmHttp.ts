import { EgressPolicy, EgressRefusedError } from '../http/egress';
import { exchange, HttpExchangeError, readBody } from '../http/exchange';
import { redactSecrets, redactValues } from '../../util/secrets';
import type { ScmProviderKind } from './ScmCredentials';
import { ScmApiError, ScmConfigError } from './ScmProvider';

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

const REQUEST_TIMEOUT = '30s';
/** Pull request lists and single pull requests are small; a host answering more is not a Git host's API. */
const MAX_RESPONSE_BYTES = 16 * 2 ** 20;

export interface ScmHttpOptions {
  kind: ScmProviderKind;
  /** No trailing slash. */
  apiBaseUrl: string;
  authorization?: string;
  /**
   * Where requests may go (app-config `stagecoach.egress`): the API's host and every redirect
   * hop pass it, checked on the address connected to.
   */
  egress: EgressPolicy;
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
    const headers = [{ name: 'Accept', value: 'application/json' }];
    if (this.options.kind === 'github') {
      headers[0].value = 'application/vnd.github+json';
      headers.push({ name: 'X-GitHub-Api-Version', value: '2022-11-28' });
    }
    if (this.options.authorization) headers.push({ name: 'Authorization', value: this.options.authorization });
    if (req.body !== undefined) headers.push({ name: 'Content-Type', value: 'application/json' });
    const spec = {
      method,
      url: url.href,
      headers,
      queryParams: [],
      body: req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body)),
      timeout: REQUEST_TIMEOUT,
      insecureSkipTLSVerify: this.options.insecureSkipTLSVerify,
    };
    const signal = this.options.signal ?? new AbortController().signal;
    let answer: { res: Response; text: string };
    try {
      // redirects are followed hop by hop, each passing the egress policy; Authorization stays with the API's origin
      answer = await exchange({ egress: this.options.egress, signal }, spec, async (res, what) => ({
        res,
        text: (await readBody(res, MAX_RESPONSE_BYTES, what)).toString('utf8'),
      }));
    } catch (e) {
      if (this.options.signal?.aborted) throw e;
      throw this.unreachable(req.what, e);
    }
    const { res, text } = answer;
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

  /** What a request that got no answer becomes: a refusal by the egress policy fails at once; an outage is retried. */
  private unreachable(what: string, e: unknown): Error {
    const base = this.options.apiBaseUrl;
    if (e instanceof EgressRefusedError) return new ScmConfigError(`${this.label}: could not ${what}: ${this.scrub(e.message)}`);
    if (!(e instanceof HttpExchangeError)) return e as Error;
    if (e.timedOut) {
      return new ScmApiError(`${this.label}: could not ${what}: ${base} did not answer within ${REQUEST_TIMEOUT}`, undefined, true);
    }
    // no cause: the exchange itself gave up (too many redirects, an answer too large)
    if (e.cause === undefined) return new ScmApiError(`${this.label}: could not ${what}: ${this.scrub(e.message)}`, undefined, false);
    // fetch's error wraps the real reason (ECONNREFUSED, a certificate problem) in its own cause
    const fetchError = e.cause as { cause?: { code?: string; message?: string }; message?: string };
    const cause = fetchError.cause;
    const code = cause?.code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new ScmApiError(
        `${this.label}: could not ${what}: the TLS certificate of ${base} could not be verified (${code}); for a host with a self-signed certificate set insecureSkipTLSVerify: true`,
        undefined,
        false,
      );
    }
    const detail = this.scrub(cause?.message ?? fetchError.message ?? String(fetchError));
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
