import { createHash } from 'node:crypto';
import semver from 'semver';
import type { Chart } from '@stagecoach/plugin-stagecoach-common';
import type { ChartSubscription } from './schema';
import {
  ChartIndex,
  chartVersionOfTag,
  MAX_CHART_INDEX_BYTES,
  noSuchChart,
  parseChartIndex,
} from '../../integrations/helm/chartIndex';
import { DEFAULT_EGRESS_POLICY, EgressPolicy, EgressRefusedError } from '../../integrations/http/egress';
import { exchange, HttpExchangeError, isSuccessStatus, readBody } from '../../integrations/http/exchange';
import { semverRangeOf } from '../../util/semverConstraint';
import { Discovery, Probe, Subscriber, SubscriptionContext } from '../types';

/** `from`: a project credential's name, for messages (never a value). */
type BasicCredentials = { username: string; password: string; from?: string };

export interface ChartSubscriberOptions {
  /** Lists the tags of an OCI repository (`host/path/chart`), for `oci://` charts. */
  listOciTags?: (
    repository: string,
    options: { insecureSkipTLSVerify?: boolean; credentials?: BasicCredentials; credentialsName?: string; egress: EgressPolicy },
  ) => Promise<string[]>;
  /** Basic credentials for a classic repository's host, if it needs them. */
  credentials?: (host: string) => { username: string; password: string } | undefined;
  timeoutMs?: number;
  /**
   * Where repositories may be reached (app-config `stagecoach.egress`): every request, each
   * redirect hop and the address connected to; default production's.
   */
  egress?: EgressPolicy;
}

interface CachedIndex {
  etag?: string;
  lastModified?: string;
  entries: ChartIndex;
}

/**
 * Discovers Helm chart versions: from a classic repository's `index.yaml` (fetched with
 * If-None-Match / If-Modified-Since, so an unchanged index costs one 304), or from the tags
 * of an `oci://` chart. Both pass the egress policy: a manifest's repoURL reaches only what
 * the policy allows.
 */
export class ChartSubscriber implements Subscriber<ChartSubscription, Chart> {
  private readonly indexes = new Map<string, CachedIndex>();
  private readonly egress: EgressPolicy;

  constructor(private readonly options: ChartSubscriberOptions = {}) {
    this.egress = options.egress ?? DEFAULT_EGRESS_POLICY;
  }

  async probe(sub: ChartSubscription, context?: SubscriptionContext): Promise<Probe> {
    const versions = await this.versions(sub, await context?.credentials('helm', sub.repoURL));
    const hash = createHash('sha256').update(`${sub.repoURL}\n${versions.join('\n')}`).digest('hex');
    return { hash, state: versions };
  }

  async discover(sub: ChartSubscription, probe: Probe, context?: SubscriptionContext): Promise<Discovery<Chart>> {
    const versions =
      (probe.state as string[] | undefined) ?? (await this.versions(sub, await context?.credentials('helm', sub.repoURL)));
    const charts: Chart[] = selectVersions(versions, sub.semverConstraint, sub.discoveryLimit ?? 20).map(version => ({
      repoURL: sub.repoURL,
      ...(sub.name ? { name: sub.name } : {}),
      version,
    }));
    return { latest: charts[0], listed: charts.map(c => ({ ...c })) };
  }

  /** The chart's versions; `own`: the project's credentials for the repository (a Secret of its manifests). */
  private async versions(sub: ChartSubscription, own?: BasicCredentials): Promise<string[]> {
    if (sub.repoURL.startsWith('oci://')) {
      if (!this.options.listOciTags) throw new Error('oci:// charts need the registry client, which is not configured');
      // Helm writes a version's `+` as `_` in OCI tags (which cannot hold `+`): read it back
      const tags = await this.options.listOciTags(sub.repoURL.slice('oci://'.length), {
        insecureSkipTLSVerify: sub.insecureSkipTLSVerify,
        ...(own ? { credentials: { username: own.username, password: own.password }, ...(own.from ? { credentialsName: own.from } : {}) } : {}),
        egress: this.egress,
      });
      return tags.map(chartVersionOfTag);
    }
    const index = await this.index(sub.repoURL, !!sub.insecureSkipTLSVerify, own);
    const entries = index.entries.get(sub.name!);
    if (!entries) throw new Error(noSuchChart(index.entries, sub.repoURL, sub.name!));
    return entries.map(e => e.version);
  }

  private async index(repoURL: string, insecure: boolean, own?: BasicCredentials): Promise<CachedIndex> {
    const url = `${repoURL.replace(/\/+$/, '')}/index.yaml`;
    // an index read without checking TLS is not served to subscriptions that check it, nor one a project's credentials read to others
    const ownKey = own ? `${createHash('sha256').update(JSON.stringify(own)).digest('hex').slice(0, 32)} ` : '';
    const key = `${ownKey}${insecure ? 'insecure ' : ''}${url}`;
    const cached = this.indexes.get(key);
    const headers: Record<string, string> = { Accept: 'application/x-yaml, text/yaml, */*' };
    if (cached?.etag) headers['If-None-Match'] = cached.etag;
    if (cached?.lastModified) headers['If-Modified-Since'] = cached.lastModified;
    const host = new URL(url).host;
    const creds = own ?? this.options.credentials?.(host);
    if (creds) headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;

    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const spec = {
      method: 'GET',
      url,
      headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
      queryParams: [],
      timeout: `${timeoutMs}ms`,
      insecureSkipTLSVerify: insecure,
    };
    let answer: { status: number; etag?: string; lastModified?: string; body?: string };
    try {
      // every hop, redirects included, passes the egress policy; Authorization never leaves the repository's origin
      answer = await exchange({ egress: this.egress, signal: new AbortController().signal }, spec, async (res, what) => {
        const status = res.status;
        if (!isSuccessStatus(status)) {
          await res.body?.cancel().catch(() => undefined);
          return { status };
        }
        return {
          status,
          etag: res.headers.get('etag') ?? undefined,
          lastModified: res.headers.get('last-modified') ?? undefined,
          body: (await readBody(res, MAX_CHART_INDEX_BYTES, what)).toString('utf8'),
        };
      });
    } catch (e) {
      if (e instanceof EgressRefusedError) throw e;
      const timedOut = e instanceof HttpExchangeError && e.timedOut;
      throw new Error(
        timedOut
          ? `chart repository ${repoURL} did not answer within ${timeoutMs / 1000}s`
          : `chart repository ${repoURL} could not be reached: ${(e as Error).message}`,
      );
    }
    if (answer.status === 304 && cached) return cached;
    if (answer.status === 401 || answer.status === 403) {
      let hint = `it needs credentials, and none are configured for it: add a helm credential Secret for ${repoURL} to the project's manifests (see docs/credentials.md)`;
      if (own?.from) hint = `check the ${own.from}, which was sent`;
      else if (creds) hint = `check the credentials for ${host}`;
      throw new Error(`chart repository ${repoURL} answered ${answer.status} for index.yaml: ${hint}`);
    }
    if (!isSuccessStatus(answer.status)) throw new Error(`chart repository ${repoURL} answered ${answer.status} for index.yaml: check repoURL`);
    const fresh: CachedIndex = {
      etag: answer.etag,
      lastModified: answer.lastModified,
      entries: parseChartIndex(answer.body ?? '', repoURL),
    };
    this.indexes.set(key, fresh);
    return fresh;
  }
}

/** Semantic versions matching the constraint, highest first. */
export function selectVersions(versions: string[], constraint: string | undefined, limit: number): string[] {
  const range = constraint ? semverRangeOf(constraint, 'semverConstraint') : undefined;
  return versions
    .map(v => ({ v, parsed: semver.parse(v) }))
    .filter((x): x is { v: string; parsed: semver.SemVer } => x.parsed !== null)
    .filter(x => !range || range.test(x.parsed))
    .sort((a, b) => semver.rcompare(a.parsed, b.parsed))
    .slice(0, limit)
    .map(x => x.v);
}
