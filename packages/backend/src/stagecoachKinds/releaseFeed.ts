import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  createSubscriptionKind,
  SubscriptionKindContext,
} from '@stagecoach/plugin-stagecoach-node';
import {
  compareVersions,
  parseConstraint,
  parseVersion,
} from './releaseVersions';

/**
 * `releaseFeed`: a Warehouse subscribes to the releases an HTTP endpoint lists as JSON, the
 * way many internal release services, vendor download pages and package mirrors publish
 * them:
 *
 *   GET https://releases.example.com/payments.json
 *   {"releases": [{"version": "1.4.0", "publishedAt": "2026-11-30T10:00:00Z"}, ...]}
 *
 *   subscriptions:
 *     - releaseFeed:
 *         repoURL: https://releases.example.com/payments.json
 *         versionConstraint: ">=1.0.0 <2.0.0"
 *
 * The newest version the constraint allows becomes freight (`releases`); promotion steps
 * read it as `${{ releaseFrom("https://releases.example.com/payments.json").version }}`. An
 * example of a kind a platform team adds through the extension point.
 */

const url = z
  .string({ invalid_type_error: "must be the feed's http:// or https:// URL" })
  .url("must be the feed's http:// or https:// URL")
  .refine(
    u => /^https?:$/.test(new URL(u).protocol),
    'must be an http:// or https:// URL',
  )
  // the URL is shown on the warehouse and with every release
  .refine(
    u => !new URL(u).username && !new URL(u).password,
    'must not hold credentials',
  );

const schema = z
  .object({
    /** Where the feed is: an HTTP GET answers its JSON. */
    repoURL: url,
    /** Comparators that must all hold, such as `>=1.2.0 <2.0.0`; default: any version. */
    versionConstraint: z
      .string({ invalid_type_error: 'must be text such as ">=1.2.0 <2.0.0"' })
      .superRefine((text, ctx) => {
        const parsed = parseConstraint(text);
        if (typeof parsed === 'string')
          ctx.addIssue({ code: 'custom', message: parsed });
      })
      .optional(),
    /** Whether pre-releases (`2.0.0-rc.1`) may be chosen. */
    allowPrereleases: z.boolean().default(false),
    /** How many versions the warehouse's status lists. */
    discoveryLimit: z.number().int().min(1).max(100).default(20),
  })
  .strict();

type ReleaseFeedSubscription = z.infer<typeof schema>;

/** One release of a feed, as freight holds it. */
interface Release {
  repoURL: string;
  version: string;
  publishedAt?: string;
}

const requested = z
  .object({
    repoURL: z.string({ invalid_type_error: "must be the feed's URL" }).min(1),
    version: z.string({ invalid_type_error: 'must be a version' }).min(1),
  })
  .strict();

/** The feed's releases, as it lists them; anything else it says is ignored. */
async function readFeed(
  ctx: SubscriptionKindContext,
  feedURL: string,
): Promise<Array<{ version: string; publishedAt?: string }>> {
  const res = await ctx.request({
    url: feedURL,
    headers: { accept: 'application/json' },
    timeoutMs: 15_000,
    maxResponseBytes: 2 * 1024 * 1024,
  });
  if (res.status !== 200) throw new Error(`${feedURL} answered ${res.status}`);
  let doc: { releases?: unknown };
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new Error(`${feedURL} did not answer with JSON`);
  }
  if (!Array.isArray(doc?.releases)) {
    throw new Error(`${feedURL} has no "releases" list`);
  }
  return doc.releases.flatMap(r =>
    typeof r?.version === 'string'
      ? [
          {
            version: r.version,
            ...(typeof r.publishedAt === 'string'
              ? { publishedAt: r.publishedAt }
              : {}),
          },
        ]
      : [],
  );
}

/** The feed's name for labels: the last part of its path, without `.json`. */
function feedName(feedURL: string): string {
  const last = new URL(feedURL).pathname.split('/').filter(Boolean).pop();
  return last?.replace(/\.json$/i, '') || new URL(feedURL).host;
}

export const releaseFeedKind = createSubscriptionKind<
  ReleaseFeedSubscription,
  Release,
  z.infer<typeof requested>
>({
  name: 'releaseFeed',
  description: 'Versions listed by an HTTP JSON release feed',
  schema,
  field: 'releases',
  expressionFunction: 'releaseFrom',

  subscriber: ctx => ({
    async probe(sub) {
      const releases = await readFeed(ctx, sub.repoURL);
      // what the feed lists, in any order: a new release, or one withdrawn, changes it
      const hash = createHash('sha256')
        .update(
          releases
            .map(r => `${r.version} ${r.publishedAt ?? ''}`)
            .sort()
            .join('\n'),
        )
        .digest('hex');
      return { hash, state: releases };
    },
    async discover(sub, probe) {
      // the schema has checked the constraint
      const constraint = sub.versionConstraint
        ? parseConstraint(sub.versionConstraint)
        : undefined;
      const allowed =
        typeof constraint === 'function' ? constraint : () => true;
      const listed = probe.state as Array<{
        version: string;
        publishedAt?: string;
      }>;
      const releases = listed
        .flatMap(release => {
          const version = parseVersion(release.version);
          const wanted =
            version &&
            (sub.allowPrereleases || version.prerelease.length === 0) &&
            allowed(version);
          return wanted ? [{ release, version }] : [];
        })
        .sort((a, b) => compareVersions(b.version, a.version))
        .slice(0, sub.discoveryLimit)
        .map(({ release }) => ({ repoURL: sub.repoURL, ...release }));
      ctx.logger.debug(
        `release feed ${sub.repoURL}: ${releases.length} version(s) match`,
      );
      return { latest: releases[0], listed: releases };
    },
  }),

  reference: r => `${r.repoURL}@${r.version}`,

  label: r => ({
    label: `${feedName(r.repoURL)}:${r.version}`,
    detail: `Release ${r.version} of ${r.repoURL}${
      r.publishedAt ? `, published ${r.publishedAt}` : ''
    }`,
  }),

  describeNoMatch: sub =>
    `${sub.repoURL} lists no release${
      sub.versionConstraint ? ` that satisfies "${sub.versionConstraint}"` : ''
    }`,

  manual: {
    requestSchema: requested,
    requestShape: '[{"repoURL", "version"}]',
    describe: r => `release ${r.version} of ${r.repoURL}`,
    matches: (r, release) => release.version === r.version,
  },
});
