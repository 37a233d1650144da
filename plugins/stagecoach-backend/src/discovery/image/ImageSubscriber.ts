import { createHash } from 'node:crypto';
import type { Image } from '@stagecoach/plugin-stagecoach-common';
import type { ImageSubscription } from './schema';
import { BoundedCache } from '../../integrations/registry/boundedCache';
import {
  ImageRepository,
  parseImageRepository,
} from '../../integrations/registry/imageReference';
import { parsePlatform } from '../../integrations/registry/platform';
import type { RegistryClient } from '../../integrations/registry/RegistryClient';
import {
  Resolution,
  ResolveOptions,
  resolveTag,
} from '../../integrations/registry/resolveImage';
import { Discovery, Probe, Subscriber, SubscriptionContext } from '../types';
import type { RegistryCredentials } from '../../integrations/registry/credentials';
import {
  filterTags,
  orderBySemver,
  orderByBuildTime,
  orderLexically,
} from './orderTags';

export interface ImageSubscriberOptions {
  /**
   * Treat every subscription's tags as immutable, as if each set Kargo's `cacheByTag`: once a
   * tag was resolved to a digest it is not asked about again, so a probe costs only the tag
   * list. A tag re-pushed with new content then goes unnoticed (the Digest strategy, which
   * follows a mutable tag, never caches by tag). Default false: only subscriptions that set
   * `cacheByTag: true` are cached so.
   */
  cacheByTag?: boolean;
  /** Read every image's build time (createdAt), not only for NewestBuild. Costs a manifest and a config GET per new digest, once. Default false. */
  readBuildTimes?: boolean;
  /** Tag resolutions kept for the subscriptions with cacheByTag, all together. Default 100,000. */
  tagCacheEntries?: number;
}

/**
 * Discovers images for image subscriptions.
 *
 * Only the image freight is made of (`latest`) needs a digest; the rest of what the status
 * lists is shown by tag, with a digest only when one is already known without asking. The
 * probe does the selection itself and hashes the listed tags together with the latest image's
 * digest, so the hash changes exactly when the listing changes or the latest tag is re-pushed
 * with new content; discover() then returns what the probe found without asking the registry
 * again. Requests per probe (T = pages of the tag list, 1 for up to 1000 tags; A = tags left
 * after the regexes):
 *  - SemVer, Lexical: T + 1 HEAD, for the best tag (more only when the best tags turn out to
 *    lack the platform, or vanish between the list and the HEAD);
 *  - NewestBuild: T + A HEADs (every candidate's build time is needed to order them);
 *  - Digest: 1 HEAD (plus a tag list only when the tag is missing, to tell a missing
 *    repository from a missing tag).
 * On top of that, only for digests never seen before: a GET of each multi-platform index; and
 * when a single image's platform must be checked or its build time read, a GET of its
 * manifest and of its config blob. Those are cached by digest. With `cacheByTag`, tags already
 * resolved cost nothing, so an unchanged repository costs T.
 */
export class ImageSubscriber implements Subscriber<ImageSubscription, Image> {
  private readonly tagCache: BoundedCache<Resolution>;

  constructor(
    private readonly client: RegistryClient,
    private readonly options: ImageSubscriberOptions = {},
  ) {
    this.tagCache = new BoundedCache(options.tagCacheEntries ?? 100_000);
  }

  /** Whether the subscription's tag resolutions are cached (its own cacheByTag, or the backend's). */
  private cachesByTag(sub: ImageSubscription): boolean {
    return !!(this.options.cacheByTag || sub.cacheByTag);
  }

  async probe(sub: ImageSubscription, context?: SubscriptionContext): Promise<Probe> {
    const found = await this.select(sub, await context?.credentials('image', sub.repoURL));
    const { latest } = found;
    const hash = createHash('sha256')
      .update(
        JSON.stringify([
          found.listed.map(i => i.tag),
          latest ? [latest.tag, latest.digest, latest.createdAt ?? null] : null,
        ]),
      )
      .digest('hex');
    return { hash, state: found };
  }

  async discover(
    sub: ImageSubscription,
    probe: Probe,
    context?: SubscriptionContext,
  ): Promise<Discovery<Image>> {
    return isDiscovery(probe.state) ? probe.state : this.select(sub, await context?.credentials('image', sub.repoURL));
  }

  /**
   * A listed tag as the image freight is made of: resolved (digest, and build time when
   * discovery reads those) the way select() resolves the latest one, through the same tag
   * cache. Undefined when the tag is gone or has no image for the platform.
   */
  async resolve(
    sub: ImageSubscription,
    listed: Record<string, unknown>,
    context?: SubscriptionContext,
  ): Promise<Image | undefined> {
    const tag = listed.tag;
    if (typeof tag !== 'string' || !tag)
      throw new Error('a listed image needs its tag');
    const repo = parseImageRepository(sub.repoURL);
    const strategy = sub.imageSelectionStrategy ?? 'SemVer';
    const options: ResolveOptions = {
      ...resolveOptions(sub, await context?.credentials('image', sub.repoURL)),
      withCreated: strategy === 'NewestBuild' || this.options.readBuildTimes,
    };
    // Digest follows a mutable tag: like select(), it never answers from the tag cache
    const r =
      strategy === 'Digest'
        ? await resolveTag(this.client, repo, tag, options)
        : await this.lookUp(sub, repo, tag, options);
    return imageOf(sub, tag, r);
  }

  private async select(
    sub: ImageSubscription,
    credentials: RegistryCredentials | undefined,
  ): Promise<Discovery<Image> & { listed: ListedImage[] }> {
    const repo = parseImageRepository(sub.repoURL);
    const limit = sub.discoveryLimit ?? 20;
    const resolve = resolveOptions(sub, credentials);
    const toImage = (tag: string, r: Resolution) => imageOf(sub, tag, r);
    const complete = (images: Image[]) => ({
      latest: images[0],
      listed: images.map(line),
    });

    switch (sub.imageSelectionStrategy ?? 'SemVer') {
      case 'Digest': {
        const tag = sub.constraint;
        if (!tag)
          throw new Error(
            'imageSelectionStrategy Digest needs constraint: the tag to follow',
          );
        if (filterTags([tag], sub).length === 0) return complete([]);
        const r = await resolveTag(this.client, repo, tag, {
          ...resolve,
          withCreated: this.options.readBuildTimes,
        });
        // a missing tag selects nothing; a missing repository is an error worth reporting
        if (!r.found) await this.client.listTags(repo, resolve);
        const image = toImage(tag, r);
        return complete(image ? [image] : []);
      }
      case 'NewestBuild': {
        const tags = filterTags(await this.client.listTags(repo, resolve), sub);
        const found = await Promise.all(
          tags.map(async tag =>
            toImage(
              tag,
              await this.lookUp(sub, repo, tag, { ...resolve, withCreated: true }),
            ),
          ),
        );
        const images = found.filter((i): i is Image => i !== undefined);
        return complete(orderByBuildTime(images).slice(0, limit));
      }
      case 'Lexical':
      case 'SemVer': {
        const tags = filterTags(await this.client.listTags(repo, resolve), sub);
        const ordered =
          sub.imageSelectionStrategy === 'Lexical'
            ? orderLexically(tags)
            : orderBySemver(tags, sub);
        const options = {
          ...resolve,
          withCreated: this.options.readBuildTimes,
        };
        // the best tag that has an image for the platform: one HEAD when the best one has;
        // past tags that do not, a few more at a time
        const resolved = new Map<string, Image>();
        const lacking = new Set<string>();
        let latest: Image | undefined;
        for (let next = 0, size = 1; !latest && next < ordered.length; ) {
          const batch = ordered.slice(next, next + size);
          next += batch.length;
          size = Math.min(size * 2, Math.max(limit, 1));
          const found = await Promise.all(
            batch.map(async tag =>
              toImage(tag, await this.lookUp(sub, repo, tag, options)),
            ),
          );
          batch.forEach((tag, i) => {
            const image = found[i];
            if (image) resolved.set(tag, image);
            else lacking.add(tag);
          });
          latest = batch.map(tag => resolved.get(tag)).find(Boolean);
        }
        const listed: ListedImage[] = ordered
          .filter(tag => !lacking.has(tag))
          .slice(0, limit)
          .map(tag => {
            const image = resolved.get(tag);
            return image
              ? line(image)
              : { tag, ...this.known(sub, repo, tag, options) };
          });
        return { latest, listed };
      }
      default:
        throw new Error(
          `unknown imageSelectionStrategy "${sub.imageSelectionStrategy}"`,
        );
    }
  }

  private cacheKey(
    repo: ImageRepository,
    tag: string,
    options: ResolveOptions,
  ): string {
    return JSON.stringify([
      repo.registry,
      repo.repository,
      tag,
      options.platform ?? null,
      !!options.withCreated,
      // what a subscription that skips TLS checks learnt is not served to one that does not
      !!options.insecureSkipTLSVerify,
      // nor what a project's own credentials could read to a project without them
      options.credentials ? createHash('sha256').update(JSON.stringify(options.credentials)).digest('hex').slice(0, 32) : null,
    ]);
  }

  /** What a tag is already known to resolve to (with cacheByTag), without a request. */
  private known(
    sub: ImageSubscription,
    repo: ImageRepository,
    tag: string,
    options: ResolveOptions,
  ): { digest?: string; createdAt?: string } {
    if (!this.cachesByTag(sub)) return {};
    const r = this.tagCache.get(this.cacheKey(repo, tag, options));
    if (!r?.found || !r.image) return {};
    const { digest, createdAt } = r.image;
    return createdAt ? { digest, createdAt } : { digest };
  }

  private async lookUp(
    sub: ImageSubscription,
    repo: ImageRepository,
    tag: string,
    options: ResolveOptions,
  ): Promise<Resolution> {
    if (!this.cachesByTag(sub)) return resolveTag(this.client, repo, tag, options);
    const key = this.cacheKey(repo, tag, options);
    const cached = this.tagCache.get(key);
    if (cached) return cached;
    const r = await resolveTag(this.client, repo, tag, options);
    // a tag deleted between listing and resolving may come back: do not remember its absence
    if (r.found) this.tagCache.set(key, r);
    return r;
  }
}

/**
 * How a subscription's tags are resolved: its platform, its TLS setting, the project's
 * credentials for it (and their Secret's name, for a refusal's message: `from`).
 */
function resolveOptions(sub: ImageSubscription, credentials?: RegistryCredentials & { from?: string }): ResolveOptions {
  const { from, ...values } = credentials ?? {};
  return {
    platform: sub.platform ? parsePlatform(sub.platform) : undefined,
    insecureSkipTLSVerify: sub.insecureSkipTLSVerify,
    ...(credentials ? { credentials: values as RegistryCredentials, ...(from ? { credentialsName: from } : {}) } : {}),
  };
}

/** The image a resolved tag gives the subscription, if the tag has one for its platform. */
function imageOf(
  sub: ImageSubscription,
  tag: string,
  r: Resolution,
): Image | undefined {
  return r.found && r.image
    ? {
        repoURL: sub.repoURL,
        tag,
        digest: r.image.digest,
        ...(r.image.createdAt ? { createdAt: r.image.createdAt } : {}),
      }
    : undefined;
}

/** One line of an image subscription's status: the tag, and its digest when known. */
interface ListedImage {
  [key: string]: unknown;
  tag: string;
  digest?: string;
  createdAt?: string;
}

function line({ tag, digest, createdAt }: Image): ListedImage {
  return createdAt ? { tag, digest, createdAt } : { tag, digest };
}

function isDiscovery(state: unknown): state is Discovery<Image> {
  return (
    typeof state === 'object' &&
    state !== null &&
    Array.isArray((state as Discovery<Image>).listed)
  );
}
