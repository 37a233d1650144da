import { createHash } from 'node:crypto';
import { BoundedCache } from './boundedCache';
import type { CredentialsProvider, RegistryCredentials } from './credentials';
import { formatTimeout, RegistryError } from './errors';
import { HostLimiter } from './hostLimiter';
import { RateLimiter } from './rateLimiter';
import type { EgressPolicy } from '../http/egress';
import { shownUrl } from '../http/exchange';
import {
  HttpTransport,
  TransportBody,
  TransportFailure,
  TransportResponse,
} from './httpTransport';
import {
  describeRepository,
  displayRegistry,
  ImageRepository,
  canonicalRegistryHost,
  isLoopbackHost,
} from './imageReference';
import { nextPageURL } from './linkHeader';
import {
  Descriptor,
  ImageConfigSummary,
  Manifest,
  MANIFEST_ACCEPT,
  readImageConfig,
  readManifest,
} from './manifests';
import { RegistryAuth, RepositoryAccess, unauthorized } from './RegistryAuth';

export interface RegistryClientOptions {
  /** Credentials per registry host; none means anonymous access. */
  credentials?: CredentialsProvider;
  /** Whether to speak plain HTTP to a host. Default: only to loopback hosts (127.0.0.1, localhost, [::1]). */
  plainHTTP?: (registry: string) => boolean;
  /** Deadline for one request, from sending it to the last byte of the answer. Default 30 s. */
  timeoutMs?: number;
  /** Requests in flight at once per host. Default 8. */
  maxConcurrentRequestsPerHost?: number;
  /** Requests per second to a registry host (as in ImageRepository.registry); undefined: no limit. */
  requestsPerSecond?: (registry: string) => number | undefined;
  /** Manifests and config blobs kept by digest (least recently used dropped first). Default 10,000. */
  digestCacheEntries?: number;
  /** Tags asked for per page of a tag list (`n=`); registries cap it at their own maximum. Default 1000. */
  tagPageSize?: number;
  /** Told of every request sent (for metrics and benchmarks). */
  onRequest?: (event: RegistryRequestEvent) => void;
}

export interface RegistryRequestEvent {
  host: string;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  kind: 'tags' | 'manifest' | 'blob' | 'upload' | 'token' | 'other';
  /** 0 when no answer came (timeout, connection failure). */
  status: number;
  durationMs: number;
}

/** Per-call transport choices that come from the subscription rather than the host. */
export interface CallOptions {
  insecureSkipTLSVerify?: boolean;
  /** Credentials for this call instead of those configured for the host: a project's own (a Secret in its manifests). */
  credentials?: RegistryCredentials;
  /** What messages call `credentials` when the registry refuses them: `credential Secret/ghcr of project "shop"`. */
  credentialsName?: string;
  /**
   * For requests a manifest names (the oci-* steps): every request, redirect and token
   * request passes this policy. Discovery leaves it unset.
   */
  egress?: EgressPolicy;
  /** Cancels the requests in flight (a promotion aborted). */
  signal?: AbortSignal;
}

/**
 * One request of the distribution API, for the modules beside this client that read and
 * write blobs and manifests (blobTransfer.ts, artifactCopy.ts): sent with authentication,
 * the host's limits and the call's egress policy.
 */
export interface RegistryRequest extends CallOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  /** Under `/v2/<repository>/` (`blobs/uploads/`), or an absolute URL the registry gave (an upload's Location). */
  path: string | URL;
  query?: Record<string, string>;
  accept?: string;
  contentType?: string;
  body?: TransportBody;
  /** Where a 2xx answer's body goes instead of into memory. */
  sink?: (chunk: Buffer) => Promise<void>;
  kind: RegistryRequestEvent['kind'];
  /** What was asked for, for messages: `acme/api/blobs/sha256:...`. */
  what: string;
  maxBodyBytes: number;
  /** Deadline of this request when it is not the client's (large blobs). */
  timeoutMs?: number;
  /** Default pull. */
  access?: RepositoryAccess;
}

export interface ManifestResult {
  digest: string;
  manifest: Manifest;
}

export interface ManifestHead {
  digest: string;
  /** The Content-Type of the answer: tells an index from a single image without fetching it. */
  mediaType?: string;
}

interface Exchange extends CallOptions {
  url: URL;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  accept?: string;
  contentType?: string;
  body?: TransportBody;
  sink?: (chunk: Buffer) => Promise<void>;
  timeoutMs?: number;
  access?: RepositoryAccess;
  authorization?: string;
  /** `registry 127.0.0.1:5000` or `token service auth.docker.io`: who is named in messages. */
  party: string;
  /** What was asked for, e.g. `app/tags/list`. */
  what: string;
  kind: RegistryRequestEvent['kind'];
  maxBodyBytes: number;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024; // what the OCI spec asks registries to accept
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const MAX_TAG_PAGE_BYTES = 32 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const MAX_TAG_PAGES = 10_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export const isDigest = (reference: string) =>
  /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(reference);

/**
 * A client of the OCI distribution API, for discovery: tag lists (paginated), manifests
 * (OCI and Docker v2, images and indexes) and image configs. Everything addressed by digest
 * is verified against its digest and cached, since it can never change.
 */
export class RegistryClient {
  private readonly transport: HttpTransport;
  private readonly limiter: HostLimiter;
  private readonly rates: RateLimiter;
  private readonly auth: RegistryAuth;
  private readonly manifests: BoundedCache<Manifest>;
  private readonly configs: BoundedCache<ImageConfigSummary>;
  private readonly credentials: CredentialsProvider;
  private readonly plainHTTP: (registry: string) => boolean;
  private readonly timeoutMs: number;
  private readonly tagPageSize: number;

  constructor(private readonly options: RegistryClientOptions = {}) {
    const perHost = options.maxConcurrentRequestsPerHost ?? 8;
    this.transport = new HttpTransport(perHost);
    this.limiter = new HostLimiter(perHost);
    const rateFor = options.requestsPerSecond ?? (() => undefined);
    this.rates = new RateLimiter(host => rateFor(canonicalRegistryHost(host)));
    this.credentials = options.credentials ?? (() => undefined);
    this.plainHTTP = options.plainHTTP ?? isLoopbackHost;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tagPageSize = options.tagPageSize ?? 1000;
    this.manifests = new BoundedCache(options.digestCacheEntries ?? 10_000);
    this.configs = new BoundedCache(options.digestCacheEntries ?? 10_000);
    this.auth = new RegistryAuth(
      this.credentials,
      (url, authorization, repo, insecure) =>
        this.fetchToken(url, authorization, repo, insecure),
      this.plainHTTP,
    );
  }

  /** Every tag of a repository, following `Link: <...>; rel="next"` pages. */
  async listTags(
    repo: ImageRepository,
    call: CallOptions = {},
  ): Promise<string[]> {
    let url = this.url(repo, `tags/list`);
    url.searchParams.set('n', String(this.tagPageSize));
    const tags = new Set<string>();
    const seen = new Set<string>();
    for (let page = 0; page < MAX_TAG_PAGES; page++) {
      seen.add(url.href);
      const res = await this.send(repo, {
        url,
        method: 'GET',
        kind: 'tags',
        what: `${repo.repository}/tags/list`,
        maxBodyBytes: MAX_TAG_PAGE_BYTES,
        ...call,
      });
      if (res.status === 404) throw notFoundRepository(repo);
      const body = this.json(res, repo, `${repo.repository}/tags/list`) as {
        tags?: unknown;
      } | null;
      const pageTags = body?.tags ?? [];
      if (
        !Array.isArray(pageTags) ||
        pageTags.some(t => typeof t !== 'string')
      ) {
        throw malformed(repo, `${repo.repository}/tags/list`);
      }
      for (const t of pageTags as string[]) tags.add(t);
      const next = nextPageURL(res.headers.link, url);
      // a next page elsewhere would receive our credentials; a page seen before would loop
      if (
        !next ||
        next.origin !== url.origin ||
        seen.has(next.href) ||
        pageTags.length === 0
      )
        break;
      url = next;
    }
    return [...tags];
  }

  /**
   * The digest a tag (or digest) points at now, and its media type, with one HEAD request.
   * Undefined when there is no such manifest.
   */
  async headManifest(
    repo: ImageRepository,
    reference: string,
    call: CallOptions = {},
  ): Promise<ManifestHead | undefined> {
    const what = `${repo.repository}/manifests/${reference}`;
    const res = await this.send(repo, {
      url: this.url(repo, `manifests/${reference}`),
      method: 'HEAD',
      accept: MANIFEST_ACCEPT,
      kind: 'manifest',
      what,
      maxBodyBytes: MAX_MANIFEST_BYTES,
      ...call,
    });
    if (res.status === 404) return undefined;
    const digest = header(res, 'docker-content-digest');
    const mediaType = header(res, 'content-type')?.split(';')[0].trim();
    if (digest && isDigest(digest)) return { digest, mediaType };
    // a registry that does not say the digest on HEAD: fetch the manifest and hash it
    const got = await this.getManifest(repo, reference, call);
    return { digest: got.digest, mediaType: got.manifest.mediaType };
  }

  /** A manifest by tag or digest; by digest it is served from the cache when seen before. */
  async getManifest(
    repo: ImageRepository,
    reference: string,
    call: CallOptions = {},
  ): Promise<ManifestResult> {
    if (isDigest(reference)) {
      const cached = this.manifests.get(reference);
      if (cached) return { digest: reference, manifest: cached };
    }
    const what = `${repo.repository}/manifests/${reference}`;
    const res = await this.send(repo, {
      url: this.url(repo, `manifests/${reference}`),
      method: 'GET',
      accept: MANIFEST_ACCEPT,
      kind: 'manifest',
      what,
      maxBodyBytes: MAX_MANIFEST_BYTES,
      ...call,
    });
    if (res.status === 404) {
      throw new RegistryError(
        'not-found',
        `manifest ${reference} not found in ${describeRepository(repo)}`,
        404,
      );
    }
    const digest = isDigest(reference)
      ? verifyDigest(res.body, reference, repo, what)
      : sha256(res.body);
    const manifest = readManifest(
      this.json(res, repo, what),
      header(res, 'content-type'),
    );
    if (!manifest)
      throw new RegistryError(
        'malformed',
        `registry ${displayRegistry(
          repo.registry,
        )} sent a manifest of an unexpected shape for ${what}`,
      );
    this.manifests.set(digest, manifest);
    return { digest, manifest };
  }

  /** The parts of an image's config blob discovery uses (build time, platform); cached by digest. */
  async getConfig(
    repo: ImageRepository,
    config: Descriptor,
    call: CallOptions = {},
  ): Promise<ImageConfigSummary> {
    const cached = this.configs.get(config.digest);
    if (cached) return cached;
    const what = `${repo.repository}/blobs/${config.digest}`;
    const res = await this.send(repo, {
      url: this.url(repo, `blobs/${config.digest}`),
      method: 'GET',
      kind: 'blob',
      what,
      maxBodyBytes: MAX_CONFIG_BYTES,
      ...call,
    });
    if (res.status === 404) {
      throw new RegistryError(
        'not-found',
        `config blob ${config.digest} not found in ${describeRepository(repo)}`,
        404,
      );
    }
    verifyDigest(res.body, config.digest, repo, what);
    const summary = readImageConfig(this.json(res, repo, what));
    if (!summary) throw malformed(repo, what);
    this.configs.set(config.digest, summary);
    return summary;
  }

  /**
   * A manifest's exact bytes by tag or digest (what copying it needs: its digest is the
   * hash of these bytes), checked against the digest when asked for by digest.
   */
  async getManifestBytes(
    repo: ImageRepository,
    reference: string,
    call: CallOptions = {},
  ): Promise<{ digest: string; mediaType: string; body: Buffer }> {
    const what = `${repo.repository}/manifests/${reference}`;
    const res = await this.request(repo, {
      method: 'GET',
      path: `manifests/${reference}`,
      accept: MANIFEST_ACCEPT,
      kind: 'manifest',
      what,
      maxBodyBytes: MAX_MANIFEST_BYTES,
      ...call,
    });
    if (res.status === 404) {
      throw new RegistryError(
        'not-found',
        `manifest ${reference} not found in ${describeRepository(repo)}`,
        404,
      );
    }
    const digest = isDigest(reference)
      ? verifyDigest(res.body, reference, repo, what)
      : sha256(res.body);
    const json = this.json(res, repo, what) as { mediaType?: unknown };
    const mediaType =
      typeof json?.mediaType === 'string'
        ? json.mediaType
        : (header(res, 'content-type') ?? '').split(';')[0].trim();
    return { digest, mediaType, body: res.body };
  }

  /**
   * One request of the distribution API (see RegistryRequest). Answers 2xx and 404 are
   * returned; anything else throws a RegistryError that names the repository.
   */
  async request(
    repo: ImageRepository,
    req: RegistryRequest,
  ): Promise<TransportResponse> {
    const { path, query, ...rest } = req;
    const url = path instanceof URL ? new URL(path) : this.url(repo, path);
    if (url.origin !== this.url(repo, '').origin) {
      // credentials go to the registry only
      throw new RegistryError(
        'malformed',
        `registry ${displayRegistry(repo.registry)} sent a location on another host (${url.host}) for ${req.what}; it is not followed with credentials`,
      );
    }
    for (const [k, v] of Object.entries(query ?? {}))
      url.searchParams.set(k, v);
    return this.send(repo, { ...rest, url });
  }

  /** Closes idle connections. */
  close(): void {
    this.transport.close();
  }

  /** `https://<registry>/v2/<repository>/<path>` (plain HTTP where configured). */
  apiUrl(repo: ImageRepository, path: string): URL {
    return this.url(repo, path);
  }

  private url(repo: ImageRepository, path: string): URL {
    const scheme = this.plainHTTP(repo.registry) ? 'http' : 'https';
    return new URL(
      `${scheme}://${repo.registry}/v2/${repo.repository}/${path}`,
    );
  }

  private json(
    res: TransportResponse,
    repo: ImageRepository,
    what: string,
  ): unknown {
    try {
      return JSON.parse(res.body.toString('utf8'));
    } catch {
      throw malformed(repo, what);
    }
  }

  /**
   * One registry request with authentication: sent with what the host is known to want,
   * retried once after a 401 with what its challenge asked for. Answers 2xx and 404 are
   * returned; anything else becomes a RegistryError.
   */
  private async send(
    repo: ImageRepository,
    req: Omit<Exchange, 'party' | 'authorization'>,
  ): Promise<TransportResponse> {
    const party = `registry ${displayRegistry(repo.registry)}`;
    const call = {
      insecureSkipTLSVerify: req.insecureSkipTLSVerify,
      egress: req.egress,
      signal: req.signal,
      credentials: req.credentials,
      credentialsName: req.credentialsName,
    };
    const { header: first, done } = await this.auth.authorize(
      repo,
      call,
      req.access,
    );
    try {
      let res = await this.exchange({ ...req, party, authorization: first });
      if (res.status === 401) {
        const retryWith = await this.auth.onUnauthorized(
          repo,
          res.headers['www-authenticate'],
          first,
          call,
          req.access,
        );
        res = await this.exchange({ ...req, party, authorization: retryWith });
      }
      if ((res.status >= 200 && res.status < 300) || res.status === 404)
        return res;
      throw this.statusError(repo, res, req.what, party, req.access, req);
    } finally {
      done();
    }
  }

  private statusError(
    repo: ImageRepository,
    res: TransportResponse,
    what: string,
    party: string,
    access: RepositoryAccess = 'pull',
    call?: Pick<CallOptions, 'credentials' | 'credentialsName'>,
  ): RegistryError {
    const creds = call?.credentials ?? this.credentials(repo.registry);
    const host = displayRegistry(repo.registry);
    const doing = access === 'push' ? 'pushing to' : 'pulling';
    switch (res.status) {
      case 401:
        return unauthorized(repo, creds, call);
      case 403: {
        let why = `it needs credentials for ${host} (none are configured for it in stagecoach.registries, nor in a credential Secret of the project: see docs/credentials.md)`;
        if (call?.credentials && call.credentialsName) why = `the ${call.credentialsName} does not allow ${doing} it`;
        else if (creds) why = `the credentials for ${host} do not allow ${doing} it`;
        return new RegistryError('forbidden', `registry answered 403 for ${describeRepository(repo)}: ${why}`, 403);
      }
      case 429:
        return new RegistryError(
          'rate-limited',
          `${party} is rate-limiting requests (429) for ${what}; try again later`,
          429,
        );
      default:
        return new RegistryError(
          res.status >= 500 ? 'server' : 'unexpected-status',
          `${party} answered ${res.status} for ${what}`,
          res.status,
        );
    }
  }

  private async fetchToken(
    url: URL,
    authorization: string | undefined,
    repo: ImageRepository,
    call: CallOptions | undefined,
  ) {
    const what = `a token for ${describeRepository(repo)}`;
    const party = `token service ${url.host}`;
    const res = await this.exchange({
      url,
      method: 'GET',
      authorization,
      party,
      what,
      kind: 'token',
      maxBodyBytes: 1024 * 1024,
      ...call,
    });
    if (res.status !== 200) return { status: res.status, json: undefined };
    try {
      return {
        status: res.status,
        json: JSON.parse(res.body.toString('utf8')) as unknown,
      };
    } catch {
      throw new RegistryError(
        'malformed',
        `${party} sent malformed JSON for ${what}`,
      );
    }
  }

  /** One HTTP exchange, redirects followed (credentials never follow a redirect to another host). */
  private async exchange(req: Exchange): Promise<TransportResponse> {
    let url = req.url;
    let authorization = req.authorization;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'stagecoach' };
      if (req.accept) headers.accept = req.accept;
      if (req.contentType) headers['content-type'] = req.contentType;
      if (authorization) headers.authorization = authorization;
      const target = url;
      const refusal = req.egress?.urlRefusal(target);
      if (refusal) throw egressRefused(req, refusal, target);
      const res = await this.limiter.run(target.host, async () => {
        await this.rates.acquire(target.host);
        return this.timed(req, target, headers);
      });
      const location = header(res, 'location');
      // a body is sent once: uploads are not redirected
      const follows = req.method === 'GET' || req.method === 'HEAD';
      if (
        !follows ||
        !REDIRECTS.has(res.status) ||
        !location ||
        hop >= MAX_REDIRECTS
      )
        return res;
      const next = new URL(location, url);
      if (next.origin !== url.origin) authorization = undefined;
      url = next;
    }
  }

  private async timed(
    req: Exchange,
    url: URL,
    headers: Record<string, string>,
  ): Promise<TransportResponse> {
    const started = Date.now();
    let status = 0;
    try {
      const res = await this.transport.send({
        url,
        method: req.method,
        headers,
        timeoutMs: req.timeoutMs ?? this.timeoutMs,
        insecureSkipTLSVerify: req.insecureSkipTLSVerify,
        maxBodyBytes: req.maxBodyBytes,
        body: req.body,
        sink: req.sink,
        egress: req.egress,
        signal: req.signal,
      });
      status = res.status;
      return res;
    } catch (e) {
      if (!(e instanceof TransportFailure)) throw e;
      throw this.transportError(e, req, url);
    } finally {
      this.options.onRequest?.({
        host: url.host,
        method: req.method,
        kind: req.kind,
        status,
        durationMs: Date.now() - started,
      });
    }
  }

  private transportError(
    e: TransportFailure,
    req: Exchange,
    url: URL,
  ): RegistryError {
    switch (e.reason) {
      case 'egress':
        return egressRefused(req, e.detail, url);
      case 'aborted':
        return new RegistryError('aborted', `${req.what}: ${e.detail}`);
      case 'sink':
        return new RegistryError(
          'local',
          `cannot keep what ${req.party} sent for ${req.what}: ${e.detail}`,
        );
      case 'timeout':
        return new RegistryError(
          'timeout',
          `${req.party} did not answer within ${formatTimeout(
            req.timeoutMs ?? this.timeoutMs,
          )} for ${req.what}`,
        );
      case 'too-large':
        return new RegistryError(
          'too-large',
          `${req.party} sent ${e.detail} for ${req.what}, more than is accepted`,
        );
      case 'tls':
        return new RegistryError(
          'tls',
          `the TLS certificate of ${req.party} could not be verified (${e.detail}); for a registry with a self-signed certificate set insecureSkipTLSVerify on the subscription`,
        );
      default:
        return new RegistryError(
          'network',
          `could not reach ${req.party} (${e.detail}) for ${req.what}`,
        );
    }
  }
}

/** A request the egress policy refuses: the message names the URL (as messages show it) and the rule. */
function egressRefused(req: Exchange, reason: string, url: URL): RegistryError {
  return new RegistryError(
    'egress-refused',
    `request to ${shownUrl(url)} (${req.what}) refused by the egress policy: ${reason} — see stagecoach.egress`,
  );
}

export function header(res: TransportResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function sha256(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Content fetched by digest must hash to it: that is what makes caching it forever safe. */
function verifyDigest(
  body: Buffer,
  digest: string,
  repo: ImageRepository,
  what: string,
): string {
  const [algorithm, hex] = digest.split(':');
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return digest;
  if (createHash(algorithm).update(body).digest('hex') !== hex) {
    throw new RegistryError(
      'integrity',
      `registry ${displayRegistry(
        repo.registry,
      )} sent content that does not match its digest for ${what}`,
    );
  }
  return digest;
}

function malformed(repo: ImageRepository, what: string): RegistryError {
  return new RegistryError(
    'malformed',
    `registry ${displayRegistry(
      repo.registry,
    )} sent malformed JSON for ${what}`,
  );
}

function notFoundRepository(repo: ImageRepository): RegistryError {
  return new RegistryError(
    'not-found',
    `repository ${repo.repository} not found on ${displayRegistry(
      repo.registry,
    )}`,
    404,
  );
}
