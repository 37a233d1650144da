import { createHash } from 'node:crypto';
import { AuthChallenge, parseAuthChallenge } from './authChallenge';
import { BoundedCache } from './boundedCache';
import type { CredentialsProvider, RegistryCredentials } from './credentials';
import type { EgressPolicy } from '../http/egress';
import { RegistryError } from './errors';
import {
  describeRepository,
  displayRegistry,
  ImageRepository,
  isLoopbackHost,
} from './imageReference';

/** How a host wants to be spoken to, learnt from its first challenge (or its absence). */
type HostScheme =
  | { scheme: 'anonymous' }
  | { scheme: 'basic' }
  | { scheme: 'bearer'; realm: string; service?: string };

interface CachedToken {
  header: string;
  expiresAt: number;
}

/** A token endpoint's answer, as the registry client fetched it. */
export interface TokenResponse {
  status: number;
  json: unknown;
}

/** Fetches a token from a realm URL (a GET, with a Basic header when credentials are configured). */
export type TokenFetcher = (
  url: URL,
  authorization: string | undefined,
  repo: ImageRepository,
  /**
   * How the request that needs the token goes out (its TLS choice: a registry with a
   * self-signed certificate usually has its token service beside it; its egress policy).
   */
  call: TokenCall | undefined,
) => Promise<TokenResponse>;

/** The parts of a call's options a token request goes out with too. */
export interface TokenCall {
  insecureSkipTLSVerify?: boolean;
  egress?: EgressPolicy;
  signal?: AbortSignal;
  /** Credentials for this call instead of the host's (a project's own): tokens got with them are cached apart. */
  credentials?: RegistryCredentials;
  /** What messages call `credentials` when the registry refuses them: `credential Secret/ghcr of project "shop"`. */
  credentialsName?: string;
}

/** The pull scope of a repository, as registries name it in their challenges. */
export const pullScope = (repo: ImageRepository) =>
  `repository:${repo.repository}:pull`;

/** What a request needs of a repository: reading it, or writing to it too (uploads, manifests). */
export type RepositoryAccess = 'pull' | 'push';

/** The scope a token must grant for `access`: `repository:acme/api:pull` or `...:pull,push`. */
export const accessScope = (repo: ImageRepository, access: RepositoryAccess) =>
  access === 'push' ? `repository:${repo.repository}:pull,push` : pullScope(repo);

/** A token is cached per host, scope and, for a call's own credentials, a digest of them: no project gets a token another's credentials got. */
const tokenKey = (repo: ImageRepository, access: RepositoryAccess, call?: TokenCall) =>
  `${repo.registry} ${accessScope(repo, access)}${
    call?.credentials ? ` ${createHash('sha256').update(JSON.stringify(call.credentials)).digest('hex').slice(0, 32)}` : ''
  }`;

const DEFAULT_TOKEN_SECONDS = 60; // the distribution spec's default when expires_in is absent

/**
 * Anonymous, basic and bearer-token authentication against a registry.
 *
 * The first request to a host goes out bare (the others to that host wait for it); a 401 tells
 * the scheme. For bearer hosts the realm's token is fetched (with basic credentials when
 * configured) and cached per host and scope until shortly before it expires, so later
 * requests carry it from the start and never see a 401.
 */
export class RegistryAuth {
  private readonly schemes = new Map<string, HostScheme>();
  private readonly learning = new Map<string, Promise<void>>();
  private readonly tokens = new BoundedCache<CachedToken>(10_000);
  private readonly pendingTokens = new Map<string, Promise<string>>();

  constructor(
    private readonly credentials: CredentialsProvider,
    private readonly fetchToken: TokenFetcher,
    private readonly plainHTTP: (host: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The Authorization header to send with a request for `repo` (undefined: none), and a
   * `done` to call once its response has arrived.
   */
  async authorize(
    repo: ImageRepository,
    call?: TokenCall,
    access: RepositoryAccess = 'pull',
  ): Promise<{ header?: string; done: () => void }> {
    const creds = call?.credentials ?? this.credentials(repo.registry);
    if (creds && 'token' in creds)
      return { header: `Bearer ${creds.token}`, done: noop };
    for (;;) {
      const known = this.schemes.get(repo.registry);
      if (known)
        return {
          header: await this.headerFor(known, repo, creds, call, access),
          done: noop,
        };
      const pending = this.learning.get(repo.registry);
      if (!pending) break;
      await pending;
    }
    // the first request to this host: the others wait until its answer says how to authenticate
    let finish: () => void = noop;
    this.learning.set(
      repo.registry,
      new Promise<void>(resolve => (finish = resolve)),
    );
    return {
      header: undefined,
      done: () => {
        if (!this.schemes.has(repo.registry))
          this.schemes.set(repo.registry, { scheme: 'anonymous' });
        this.learning.delete(repo.registry);
        finish();
      },
    };
  }

  /**
   * After a 401: learns the host's challenge and returns the header to retry with. Throws the
   * actionable 401 error when there is nothing better to retry with.
   */
  async onUnauthorized(
    repo: ImageRepository,
    wwwAuthenticate: string | string[] | undefined,
    sent: string | undefined,
    call?: TokenCall,
    access: RepositoryAccess = 'pull',
  ): Promise<string> {
    const creds = call?.credentials ?? this.credentials(repo.registry);
    if (creds && 'token' in creds) throw unauthorized(repo, creds, call);
    const challenge = parseAuthChallenge(wwwAuthenticate);
    const scheme = schemeFrom(challenge);
    if (!scheme) throw unauthorized(repo, creds, call);
    this.schemes.set(repo.registry, scheme);
    if (scheme.scheme === 'basic') {
      const header = creds ? basicHeader(creds) : undefined;
      if (!header || header === sent) throw unauthorized(repo, creds, call);
      return header;
    }
    const key = tokenKey(repo, access, call);
    const cached = this.tokens.get(key);
    // another request already replaced the token this one was refused with
    if (cached && cached.header !== sent && cached.expiresAt > this.now())
      return cached.header;
    const header = await this.newToken(
      scheme,
      repo,
      creds,
      challenge?.params.scope,
      call,
      access,
    );
    if (header === sent) throw unauthorized(repo, creds, call);
    return header;
  }

  private async headerFor(
    scheme: HostScheme,
    repo: ImageRepository,
    creds: RegistryCredentials | undefined,
    call: TokenCall | undefined,
    access: RepositoryAccess,
  ) {
    if (scheme.scheme === 'anonymous') return undefined;
    if (scheme.scheme === 'basic')
      return creds ? basicHeader(creds) : undefined;
    const cached = this.tokens.get(tokenKey(repo, access, call));
    if (cached && cached.expiresAt > this.now()) return cached.header;
    return this.newToken(scheme, repo, creds, undefined, call, access);
  }

  /** One token request per host and scope at a time; concurrent callers share its answer. */
  private newToken(
    scheme: Extract<HostScheme, { scheme: 'bearer' }>,
    repo: ImageRepository,
    creds: RegistryCredentials | undefined,
    challengeScope: string | undefined,
    call: TokenCall | undefined,
    access: RepositoryAccess,
  ): Promise<string> {
    const key = tokenKey(repo, access, call);
    const pending = this.pendingTokens.get(key);
    if (pending) return pending;
    const request = this.requestToken(
      scheme,
      repo,
      creds,
      challengeScope ?? accessScope(repo, access),
      call,
      access,
    ).finally(() => this.pendingTokens.delete(key));
    this.pendingTokens.set(key, request);
    return request;
  }

  private async requestToken(
    scheme: Extract<HostScheme, { scheme: 'bearer' }>,
    repo: ImageRepository,
    creds: RegistryCredentials | undefined,
    scope: string,
    call: TokenCall | undefined,
    access: RepositoryAccess,
  ): Promise<string> {
    let url: URL;
    try {
      url = new URL(scheme.realm);
    } catch {
      throw new RegistryError(
        'malformed',
        `registry ${displayRegistry(
          repo.registry,
        )} named an invalid token service in its challenge`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError(
        'malformed',
        `registry ${displayRegistry(
          repo.registry,
        )} named an invalid token service in its challenge`,
      );
    }
    const basic = creds ? basicHeader(creds) : undefined;
    if (
      basic &&
      url.protocol === 'http:' &&
      !isLoopbackHost(url.host) &&
      !this.plainHTTP(url.host)
    ) {
      throw new RegistryError(
        'insecure-realm',
        `registry ${displayRegistry(
          repo.registry,
        )} sends clients to a token service over plain HTTP (${url.host}); ` +
          `credentials are not sent there unless that host is configured with plainHTTP`,
      );
    }
    if (scheme.service) url.searchParams.set('service', scheme.service);
    url.searchParams.set('scope', scope);
    const res = await this.fetchToken(url, basic, repo, call);
    if (res.status === 401 || res.status === 403)
      throw unauthorized(repo, creds, call);
    if (res.status !== 200) {
      throw new RegistryError(
        'server',
        `token service ${url.host} answered ${
          res.status
        } for ${describeRepository(repo)}`,
        res.status,
      );
    }
    const body = res.json as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
    } | null;
    const token =
      typeof body?.token === 'string' && body.token
        ? body.token
        : body?.access_token;
    if (typeof token !== 'string' || !token) {
      throw new RegistryError(
        'malformed',
        `token service ${url.host} sent no token for ${describeRepository(
          repo,
        )}`,
      );
    }
    const seconds =
      typeof body?.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in
        : DEFAULT_TOKEN_SECONDS;
    // renew a little early, so a token never expires between being picked and being checked
    const margin = Math.min(10, seconds / 2);
    const header = `Bearer ${token}`;
    this.tokens.set(tokenKey(repo, access, call), {
      header,
      expiresAt: this.now() + (seconds - margin) * 1000,
    });
    return header;
  }
}

function noop() {}

function basicHeader(creds: RegistryCredentials): string | undefined {
  if (!('username' in creds)) return undefined;
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString(
    'base64',
  )}`;
}

function schemeFrom(
  challenge: AuthChallenge | undefined,
): Exclude<HostScheme, { scheme: 'anonymous' }> | undefined {
  if (challenge?.scheme === 'basic') return { scheme: 'basic' };
  if (challenge?.scheme === 'bearer' && challenge.params.realm) {
    return {
      scheme: 'bearer',
      realm: challenge.params.realm,
      service: challenge.params.service,
    };
  }
  return undefined;
}

/**
 * Where the credentials a registry refused came from, for messages: the project's Secret that
 * was sent (named, never its values), or, when none was sent, the two places credentials come
 * from.
 */
export function credentialsHint(
  host: string,
  creds: RegistryCredentials | undefined,
  call?: Pick<TokenCall, 'credentials' | 'credentialsName'>,
): string {
  if (call?.credentials && call.credentialsName) return `check the ${call.credentialsName}, which was sent`;
  if (creds) return `check the credentials for ${host}`;
  return `check the credentials for ${host} (none are configured for it in stagecoach.registries, nor in a credential Secret of the project: see docs/credentials.md)`;
}

/** `registry answered 401 for ghcr.io/acme/api: check the credentials for ghcr.io` */
export function unauthorized(
  repo: ImageRepository,
  creds: RegistryCredentials | undefined,
  call?: Pick<TokenCall, 'credentials' | 'credentialsName'>,
): RegistryError {
  const hint = credentialsHint(displayRegistry(repo.registry), creds, call);
  return new RegistryError(
    'unauthorized',
    `registry answered 401 for ${describeRepository(repo)}: ${hint}`,
    401,
  );
}
