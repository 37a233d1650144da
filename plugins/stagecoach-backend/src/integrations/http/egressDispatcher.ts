import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, Dispatcher, ProxyAgent } from 'undici';
import { EgressPolicy, EgressRefusedError } from './egress';

/**
 * Connections that pass the egress policy: the DNS lookup of every connection checks each
 * address the name resolved to, so the address checked is the address connected to (a name
 * that resolved to an allowed address a moment ago and to a denied one now is refused).
 * Addresses written in a URL skip DNS; the caller checks them with `policy.checkUrl`.
 */

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net.connect / tls.connect that resolves through the policy and refuses denied addresses. */
export function egressLookup(policy: EgressPolicy) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    policy.resolve(hostname).then(
      found => {
        const addresses = found.filter(a => !options.family || a.family === options.family);
        for (const a of addresses) {
          const reason = policy.connectRefusal(hostname, a.address);
          if (reason) {
            callback(new EgressRefusedError(reason), '');
            return;
          }
        }
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
        } else if (options.all) {
          callback(null, addresses.map(a => ({ address: a.address, family: a.family })));
        } else {
          callback(null, addresses[0].address, addresses[0].family);
        }
      },
      (e: NodeJS.ErrnoException) => callback(e, ''),
    );
  };
}

/** One keep-alive agent per policy for ordinary requests. */
const shared = new WeakMap<EgressPolicy, Agent>();

export interface EgressDispatcher {
  dispatcher: Dispatcher;
  /** Ends a dispatcher made for one exchange (a proxy, TLS checks skipped); the shared one stays. */
  release(): Promise<void>;
}

/**
 * The dispatcher for one exchange: the policy's shared agent, or one of its own when the
 * request goes through a proxy (whose address passes the policy too) or skips TLS checks.
 */
export function egressDispatcher(
  policy: EgressPolicy,
  options: { insecureSkipTLSVerify?: boolean; proxy?: string } = {},
): EgressDispatcher {
  const lookup = egressLookup(policy);
  const tls = options.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {};
  if (options.proxy) {
    const proxy = new ProxyAgent({ uri: options.proxy, proxyTls: { lookup }, requestTls: tls });
    return { dispatcher: proxy, release: () => proxy.destroy() };
  }
  if (options.insecureSkipTLSVerify) {
    const agent = new Agent({ connect: { lookup, ...tls } });
    return { dispatcher: agent, release: () => agent.destroy() };
  }
  let agent = shared.get(policy);
  if (!agent) {
    agent = new Agent({ connect: { lookup } });
    shared.set(policy, agent);
  }
  return { dispatcher: agent, release: async () => undefined };
}
