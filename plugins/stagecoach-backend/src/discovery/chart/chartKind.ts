import { z } from 'zod';
import type { Chart } from '@stagecoach/plugin-stagecoach-common';
import { ExpressionError, ExprFunction } from '../../expressions/expressions';
import { parseImageRepository } from '../../integrations/registry/imageReference';
import { compactRepoURL } from '../../util/compactRepoURL';
import {
  chartRepositoryKey,
  normalizeImageRepository,
} from '../../util/repositoryKeys';
import { nothingMatches } from '../describeNoMatch';
import { requestText } from '../requestFields';
import type { SubscriptionKind } from '../SubscriptionKind';
import { ChartSubscriber } from './ChartSubscriber';
import { ChartSubscription, chartSubscriptionSchema } from './schema';

declare module '../../store/freightIdentity' {
  interface FreightArtifacts {
    /** The freight's charts, one per chart subscription of its warehouse. */
    charts: Chart[];
  }
}

/** A chart version asked for by a request that assembles freight by hand. */
const requestedChartSchema = z
  .object({
    repoURL: requestText('the chart repository URL'),
    name: requestText('the chart name').optional(),
    version: requestText('the chart version'),
  })
  .strict();

type RequestedChart = z.infer<typeof requestedChartSchema>;

/** A chart repository URL as written, for comparison: lower-case host, no trailing slash. */
function normalizeChartURL(repoURL: string): string {
  const t = repoURL.trim().replace(/\/+$/, '');
  try {
    const u = new URL(t);
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(
      /\/+$/,
      '',
    )}${u.search}`;
  } catch {
    return t;
  }
}

/** Helm charts: versions from a classic repository's index.yaml, or an oci:// chart's tags. */
export const chartKind: SubscriptionKind<
  ChartSubscription,
  Chart,
  RequestedChart
> = {
  name: 'chart',
  schema: chartSubscriptionSchema,
  field: 'charts',

  subscriber: deps =>
    new ChartSubscriber({
      listOciTags: (repo, options) => deps.registry.listTags(parseImageRepository(repo), options),
      egress: deps.egress,
    }),

  describe: sub => `${sub.repoURL}${sub.name ? ` ${sub.name}` : ''}`,

  describeNoMatch: sub =>
    nothingMatches(sub.repoURL, [
      sub.semverConstraint && `constraint "${sub.semverConstraint}"`,
    ]),

  reference: c =>
    `${c.repoURL.replace(/\/+$/, '')}${c.name ? `/${c.name}` : ''}:${
      c.version
    }`,

  // Kargo's names are its Go fields (`commitFrom(x).ID`)
  artifactFields: { repoURL: 'RepoURL', name: 'Name', version: 'Version' },

  expressionFunctions(charts, owner) {
    const chartFrom: ExprFunction = (repoURL, name) => {
      const found = charts.find(
        c => c.repoURL === repoURL && (name === undefined || c.name === name),
      );
      if (!found) {
        throw new ExpressionError(
          `${owner} has no chart from ${String(repoURL)}${
            name ? ` named ${String(name)}` : ''
          }`,
        );
      }
      return found;
    };
    return { chartFrom };
  },

  label(c) {
    const name =
      c.name || compactRepoURL(c.repoURL).split('/').pop() || 'chart';
    return {
      label: `${name}:${c.version}`,
      detail: `Chart ${c.repoURL}${c.name ? ` ${c.name}` : ''} ${c.version}`,
    };
  },

  listedLabel: e => String(e.version),

  matchesChange(change, sub) {
    // registries host Helm charts as OCI artifacts: an image push may be a chart's
    if (change.kind === 'image') {
      if (!/^oci:\/\//i.test(sub.repoURL)) return false;
      const wanted = normalizeImageRepository(sub.repoURL);
      return (change.repositories ?? []).some(
        r => normalizeImageRepository(r) === wanted,
      );
    }
    if (change.kind !== 'chart') return false;
    // a chart event names the repository, or the repository and the chart
    const candidates = new Set([chartRepositoryKey(sub.repoURL)]);
    if (sub.name)
      candidates.add(
        chartRepositoryKey(`${sub.repoURL.replace(/\/+$/, '')}/${sub.name}`),
      );
    return (change.repoURLs ?? []).some(u =>
      candidates.has(chartRepositoryKey(u)),
    );
  },

  manual: {
    requestSchema: requestedChartSchema,
    requestShape: '[{"repoURL", "version"}]',
    describe: c =>
      `chart ${c.repoURL}${c.name ? ` ${c.name}` : ''} version ${c.version}`,
    source: c => `${c.repoURL}${c.name ? ` (chart ${c.name})` : ''}`,
    belongs(c, sub) {
      if (normalizeChartURL(sub.repoURL) !== normalizeChartURL(c.repoURL))
        return false;
      const subName =
        sub.name ?? sub.repoURL.replace(/\/+$/, '').split('/').pop();
      return c.name === undefined || c.name === subName;
    },
    match: (c, listed) => ({
      entries: listed.filter(e => e.version === c.version),
    }),
    isComplete: e => typeof e.version === 'string',
  },
};
