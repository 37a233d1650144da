import { createHash } from 'node:crypto';
import type { Image } from '@stagecoach/plugin-stagecoach-common';
import type { ImageSubscription } from '../../manifests/schemas';
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
import { Probe, Subscriber } from '../types';
import {
  filterTags,
  orderBySemver,
  orderByBuildTime,
  orderLexically,
} from './orderTags';

export interface ImageSubscriberOptions {
  /**
   * Treat tags as immutable, as Kargo's `cacheByTag` does: once a tag was resolved to a
   * digest it is not asked about again, so a probe costs only the tag list. A tag re-pushed
   * with new content then goes unnoticed (the Digest strategy, which follows a mutable tag,
   * never caches by tag). Default false.
   */
  cacheByTag?: boolean;
  /** Read every image's build time (createdAt), not only for NewestBuild. Costs a manifest and a config GET per new digest, once. Default false. */
  readBuildTimes?: boolean;
  /** Tag resolutions kept when cacheByTag is on. Default 100,000. */
  tagCacheEntries?: number;
}

/**
 * Discovers images for image subscriptions.
 *
 * The probe does the selection itself and hashes its result: that hash changes exactly when
 * the selected images change (a new tag, or a tag re-pushed with new content), and discover()
 * then returns what the probe found without asking the registry again. Requests per probe
 * (T = pages of the tag list, 1 for up to 1000 tags; N = discoveryLimit; A = tags left after
 * the regexes):
 *  - SemVer, Lexical: T + N HEADs (more HEADs only when tags turn out to lack the platform);
 *  - NewestBuild: T + A HEADs (every candidate's build time is needed to order them);
 *  - Digest: 1 HEAD (plus a tag list only when the tag is missing, to tell a missing
 *    repository from a missing tag).
 * On top of that, only for digests never seen before: a GET of each multi-platform index; and
 * when a single image's platform must be checked or its build time read, a GET of its
 * manifest and of its config blob. Those are cached by digest. With `cacheByTag`, tags already
 * resolved cost nothing, so an unchanged repository costs T.
 */
export class ImageSubscriber implements Subscriber<ImageSubscription, Image> {
  private readonly tagCache: BoundedCache<Resolution> | undefined;

  constructor(
    private readonly client: RegistryClient,
    private readonly options: ImageSubscriberOptions = {},
  ) {
    this.tagCache = options.cacheByTag
      ? new BoundedCache(options.tagCacheEntries ?? 100_000)
      : undefined;
  }

  async probe(sub: ImageSubscription): Promise<Probe> {
    const images = await this.select(sub);
    const hash = createHash('sha256')
      .update(
        JSON.stringify(images.map(i => [i.tag, i.digest, i.createdAt ?? null])),
      )
      .digest('hex');
    return { hash, state: images };
  }

  async discover(sub: ImageSubscription, probe: Probe): Promise<Image[]> {
    return Array.isArray(probe.state)
      ? (probe.state as Image[])
      : this.select(sub);
  }

  private async select(sub: ImageSubscription): Promise<Image[]> {
    const repo = parseImageRepository(sub.repoURL);
    const limit = sub.discoveryLimit ?? 20;
    const resolve: ResolveOptions = {
      platform: sub.platform ? parsePlatform(sub.platform) : undefined,
      insecureSkipTLSVerify: sub.insecureSkipTLSVerify,
    };
    const toImage = (tag: string, r: Resolution): Image[] =>
      r.found && r.image
        ? [
            {
              repoURL: sub.repoURL,
              tag,
              digest: r.image.digest,
              ...(r.image.createdAt ? { createdAt: r.image.createdAt } : {}),
            },
          ]
        : [];

    switch (sub.imageSelectionStrategy ?? 'SemVer') {
      case 'Digest': {
        const tag = sub.constraint;
        if (!tag)
          throw new Error(
            'imageSelectionStrategy Digest needs constraint: the tag to follow',
          );
        if (filterTags([tag], sub).length === 0) return [];
        const r = await resolveTag(this.client, repo, tag, {
          ...resolve,
          withCreated: this.options.readBuildTimes,
        });
        // a missing tag selects nothing; a missing repository is an error worth reporting
        if (!r.found) await this.client.listTags(repo, resolve);
        return toImage(tag, r);
      }
      case 'NewestBuild': {
        const tags = filterTags(await this.client.listTags(repo, resolve), sub);
        const found = await Promise.all(
          tags.map(async tag =>
            toImage(
              tag,
              await this.resolve(repo, tag, { ...resolve, withCreated: true }),
            ),
          ),
        );
        return orderByBuildTime(found.flat()).slice(0, limit);
      }
      case 'Lexical':
      case 'SemVer': {
        const tags = filterTags(await this.client.listTags(repo, resolve), sub);
        const ordered =
          sub.imageSelectionStrategy === 'Lexical'
            ? orderLexically(tags)
            : orderBySemver(tags, sub);
        const withCreated = this.options.readBuildTimes;
        const images: Image[] = [];
        // resolve in order, a batch at a time, until enough tags have an image for the platform
        for (let next = 0; images.length < limit && next < ordered.length; ) {
          const batch = ordered.slice(next, next + (limit - images.length));
          next += batch.length;
          const found = await Promise.all(
            batch.map(async tag =>
              toImage(
                tag,
                await this.resolve(repo, tag, { ...resolve, withCreated }),
              ),
            ),
          );
          images.push(...found.flat());
        }
        return images;
      }
      default:
        throw new Error(
          `unknown imageSelectionStrategy "${sub.imageSelectionStrategy}"`,
        );
    }
  }

  private async resolve(
    repo: ImageRepository,
    tag: string,
    options: ResolveOptions,
  ): Promise<Resolution> {
    if (!this.tagCache) return resolveTag(this.client, repo, tag, options);
    const key = JSON.stringify([
      repo.registry,
      repo.repository,
      tag,
      options.platform ?? null,
      !!options.withCreated,
    ]);
    const cached = this.tagCache.get(key);
    if (cached) return cached;
    const r = await resolveTag(this.client, repo, tag, options);
    // a tag deleted between listing and resolving may come back: do not remember its absence
    if (r.found) this.tagCache.set(key, r);
    return r;
  }
}
