import dns from 'node:dns';
import type { Config } from '@backstage/config';
import { addressBytes, addressText, Cidr, inCidr, isIpAddress, parseCidr } from './cidr';

/**
 * The egress policy: where requests that manifests ask for (the `http` and `http-download`
 * steps, the `web` and `prometheus` metrics, the pull-request steps' API requests, and Git
 * remotes: see integrations/git/gitEgress.ts) may go. App-config `stagecoach.egress`:
 *
 *   stagecoach:
 *     egress:
 *       allowLoopback: false          # the built-in loopback denial lifted (the demo does)
 *       allow:                        # optional: when given, only these
 *         - host: '*.example.com'
 *         - cidr: 10.0.0.0/8
 *       deny:                         # added to the built-in denials; deny wins over allow
 *         - cidr: 10.20.0.0/16
 *
 * Built in, always: link-local (169.254.0.0/16, fe80::/10), cloud metadata (169.254.169.254,
 * fd00:ec2::254, 100.100.100.200, metadata.google.internal) and unspecified addresses
 * (0.0.0.0/8, ::); and, unless allowLoopback, loopback (127.0.0.0/8, ::1, localhost).
 * Private ranges are allowed unless denied here.
 *
 * Host rules are judged on the URL's host name; CIDR rules on the address actually connected
 * to (checked in the connection's DNS lookup, so a name that resolves to a denied address is
 * refused whatever it resolved to before) and on addresses written in the URL.
 */

export const EGRESS_CONFIG_KEY = 'stagecoach.egress';

/** One entry of `allow` or `deny`: a host name (`*.example.com` for its subdomains) or a CIDR range. */
export interface EgressRuleSetting {
  host?: string;
  cidr?: string;
}

export interface EgressSettings {
  allowLoopback?: boolean;
  allow?: EgressRuleSetting[];
  deny?: EgressRuleSetting[];
  /**
   * Resolves a host name to its addresses; default the system's resolver (dns.lookup). For
   * tests: a name that resolves to a chosen address.
   */
  resolve?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
}

interface HostPattern {
  text: string;
  /** `*.example.com`: any name ending in `.example.com`. */
  suffix?: string;
  exact?: string;
}

interface Rule {
  /** What messages call the rule: `link-local`, `stagecoach.egress.deny[0]`. */
  name: string;
  host?: HostPattern;
  cidr?: Cidr;
}

/** A request the egress policy refuses; the message names the rule and where to change it. */
export class EgressRefusedError extends Error {
  readonly code = 'EGRESS_REFUSED';

  constructor(
    /** Why, without the URL: `169.254.169.254 is in the denied range ...`. */
    readonly reason: string,
    /** The request as messages show it (credentials and query values hidden). */
    readonly request?: string,
  ) {
    super(
      `${request ? `request to ${request}` : 'request'} refused by the egress policy: ${reason} — see ${EGRESS_CONFIG_KEY}`,
    );
    this.name = 'EgressRefusedError';
  }

  /** The same refusal, naming the request. */
  at(request: string): EgressRefusedError {
    return new EgressRefusedError(this.reason, request);
  }
}

/** The egress refusal somewhere in an error's cause chain (fetch wraps what the DNS lookup threw). */
export function egressRefusalIn(e: unknown): EgressRefusedError | undefined {
  for (let cur: any = e, depth = 0; cur && depth < 6; cur = cur.cause, depth++) {
    if (cur instanceof EgressRefusedError) return cur;
  }
  return undefined;
}

/** A host name as rules compare it: lower case, punycode, no trailing dot. */
export function normalHost(name: string): string {
  const trimmed = name.trim().replace(/\.+$/, '').toLowerCase();
  if (isIpAddress(trimmed)) return trimmed;
  return new URL(`http://${trimmed}/`).hostname;
}

function parseHostPattern(text: string): HostPattern {
  const wildcard = text.trim().startsWith('*.');
  const name = wildcard ? text.trim().slice(2) : text;
  let host: string;
  try {
    host = normalHost(name);
  } catch {
    host = '';
  }
  if (!host || host.includes('*') || !/^[a-z0-9.-]+$/.test(host)) {
    throw new Error(`"${text}" is not a host name such as git.example.com, or *.example.com for its subdomains`);
  }
  return wildcard ? { text: `*.${host}`, suffix: `.${host}` } : { text: host, exact: host };
}

function hostMatches(pattern: HostPattern, host: string): boolean {
  return pattern.exact !== undefined ? host === pattern.exact : host.endsWith(pattern.suffix!);
}

function builtin(name: string, cidrs: string[], hosts: string[] = []): Rule[] {
  return [...cidrs.map(c => ({ name, cidr: parseCidr(c) })), ...hosts.map(h => ({ name, host: parseHostPattern(h) }))];
}

/** The most specific first, so that 169.254.169.254 is named cloud metadata rather than link-local. */
const METADATA = builtin('cloud metadata', ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200'], ['metadata.google.internal']);
const LINK_LOCAL = builtin('link-local', ['169.254.0.0/16', 'fe80::/10']);
const UNSPECIFIED = builtin('unspecified address', ['0.0.0.0/8', '::/128']);
const LOOPBACK = builtin('loopback', ['127.0.0.0/8', '::1'], ['localhost', '*.localhost']);

function parseRules(list: EgressRuleSetting[] | undefined, key: string): Rule[] {
  return (list ?? []).map((r, i) => {
    const name = `${key}[${i}]`;
    const given = [r.host !== undefined && 'host', r.cidr !== undefined && 'cidr'].filter(Boolean);
    if (given.length !== 1) throw new Error(`${name} must have exactly one of host or cidr`);
    try {
      if (r.cidr !== undefined) return { name, cidr: parseCidr(r.cidr) };
      // an address written as a host is a one-address range
      return isIpAddress(r.host!) ? { name, cidr: parseCidr(r.host!) } : { name, host: parseHostPattern(r.host!) };
    } catch (e) {
      throw new Error(`${name}.${r.cidr !== undefined ? 'cidr' : 'host'}: ${(e as Error).message}`);
    }
  });
}

async function systemResolve(hostname: string): Promise<Array<{ address: string; family: number }>> {
  return dns.promises.lookup(hostname, { all: true });
}

export class EgressPolicy {
  private readonly denied: Rule[];
  private readonly allowed: Rule[];
  readonly resolve: NonNullable<EgressSettings['resolve']>;

  constructor(settings: EgressSettings = {}) {
    this.denied = [
      ...METADATA,
      ...LINK_LOCAL,
      ...UNSPECIFIED,
      ...(settings.allowLoopback ? [] : LOOPBACK),
      ...parseRules(settings.deny, `${EGRESS_CONFIG_KEY}.deny`),
    ];
    this.allowed = parseRules(settings.allow, `${EGRESS_CONFIG_KEY}.allow`);
    this.resolve = settings.resolve ?? systemResolve;
  }

  /**
   * Why a request to this URL is refused before any connection (its scheme, its host name,
   * an address written in it), or undefined.
   */
  urlRefusal(url: URL): string | undefined {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} is not http: or https:`;
    const host = normalHost(url.hostname);
    const literal = addressBytes(host);
    if (literal) return this.addressRefusal(host, literal, undefined);
    const denied = this.denied.find(r => r.host && hostMatches(r.host, host));
    if (denied) return `${host} ${denied.host!.exact ? 'is a denied host' : `matches the denied hosts ${denied.host!.text}`} (${denied.name})`;
    if (this.allowed.length > 0 && !this.hostAllowed(host) && !this.allowed.some(r => r.cidr)) {
      return `${host} matches no entry of ${EGRESS_CONFIG_KEY}.allow`;
    }
    return undefined;
  }

  /** Why connecting to `address` for `hostname` (the URL's host) is refused, or undefined. */
  connectRefusal(hostname: string, address: string): string | undefined {
    const bytes = addressBytes(address);
    if (!bytes) return `${hostname} resolved to "${address}", which is not an IP address`;
    const host = normalHost(hostname);
    return this.addressRefusal(host, bytes, isIpAddress(host) ? undefined : host);
  }

  /** Throws EgressRefusedError when a request to `url` is refused before connecting. */
  checkUrl(url: URL, request: string): void {
    const reason = this.urlRefusal(url);
    if (reason) throw new EgressRefusedError(reason, request);
  }

  /**
   * Resolves the URL's host name and checks every address (for a request through a proxy,
   * which resolves the name itself: the best this side can do).
   */
  async checkResolved(url: URL, request: string): Promise<void> {
    const host = normalHost(url.hostname);
    if (isIpAddress(host)) return;
    let addresses: Array<{ address: string }>;
    try {
      addresses = await this.resolve(host);
    } catch {
      return; // the proxy may know names this side does not
    }
    for (const a of addresses) {
      const reason = this.connectRefusal(host, a.address);
      if (reason) throw new EgressRefusedError(reason, request);
    }
  }

  private hostAllowed(host: string): boolean {
    return this.allowed.some(r => r.host && hostMatches(r.host, host));
  }

  private addressRefusal(shown: string, bytes: Uint8Array, name: string | undefined): string | undefined {
    const address = addressText(bytes);
    const subject = name ? `${name} resolves to ${address}, which` : `${address}${address !== shown ? ` (${shown})` : ''}`;
    const denied = this.denied.find(r => r.cidr && inCidr(bytes, r.cidr));
    if (denied) return `${subject} is in the denied range ${denied.cidr!.text} (${denied.name})`;
    if (this.allowed.length === 0 || (name && this.hostAllowed(name))) return undefined;
    if (this.allowed.some(r => r.cidr && inCidr(bytes, r.cidr))) return undefined;
    return `${subject} matches no entry of ${EGRESS_CONFIG_KEY}.allow`;
  }
}

/** What production gets without configuration. */
export const DEFAULT_EGRESS_POLICY = new EgressPolicy();

/** Reads `stagecoach.egress`; a bad entry throws naming its key. */
export function readEgressPolicy(config: Config): EgressPolicy {
  const c = config.getOptionalConfig(EGRESS_CONFIG_KEY);
  if (!c) return DEFAULT_EGRESS_POLICY;
  const rules = (key: string) =>
    c.getOptionalConfigArray(key)?.map(r => ({ host: r.getOptionalString('host'), cidr: r.getOptionalString('cidr') }));
  return new EgressPolicy({ allowLoopback: c.getOptionalBoolean('allowLoopback'), allow: rules('allow'), deny: rules('deny') });
}
