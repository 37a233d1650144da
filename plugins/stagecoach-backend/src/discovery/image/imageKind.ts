import { z } from 'zod';
import type { Image } from '@stagecoach/plugin-stagecoach-common';
import { ExpressionError, ExprFunction } from '../../expressions/expressions';
import { parseImageRepository } from '../../integrations/registry/imageReference';
import { compactRepoURL } from '../../util/compactRepoURL';
import { normalizeImageRepository } from '../../util/repositoryKeys';
import { nothingMatches } from '../describeNoMatch';
import { requestText } from '../requestFields';
import type { SubscriptionKind } from '../SubscriptionKind';
import { ImageSubscriber } from './ImageSubscriber';
import { ImageSubscription, imageSubscriptionSchema } from './schema';

declare module '../../store/freightIdentity' {
  interface FreightArtifacts {
    /** The freight's images, one per image subscription of its warehouse. */
    images: Image[];
  }
}

/** An image asked for by a request that assembles freight by hand. */
const requestedImageSchema = z
  .object({
    repoURL: requestText('the image repository, such as ghcr.io/acme/api'),
    tag: requestText('a tag name').optional(),
    digest: z
      .string()
      .regex(
        /^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/,
        'must be a digest such as sha256:0123…',
      )
      .optional(),
  })
  .strict()
  .refine(i => i.tag !== undefined || i.digest !== undefined, {
    message: "needs the image's tag, its digest, or both",
  });

type RequestedImage = z.infer<typeof requestedImageSchema>;

/** `nginx` and `docker.io/library/nginx` are one repository. */
function sameImageRepository(a: string, b: string): boolean {
  try {
    const x = parseImageRepository(a);
    const y = parseImageRepository(b);
    return x.registry === y.registry && x.repository === y.repository;
  } catch {
    return a.trim() === b.trim();
  }
}

/** Container images in an OCI registry: tags, resolved to digests. */
export const imageKind: SubscriptionKind<
  ImageSubscription,
  Image,
  RequestedImage
> = {
  name: 'image',
  schema: imageSubscriptionSchema,
  field: 'images',

  subscriber: deps => new ImageSubscriber(deps.registry),

  describe: sub => sub.repoURL,

  describeNoMatch: sub =>
    nothingMatches(sub.repoURL, [
      sub.constraint && `constraint "${sub.constraint}"`,
    ]),

  reference: i => `${i.repoURL}:${i.tag}@${i.digest}`,

  // Kargo's names are its Go fields (`commitFrom(x).ID`)
  artifactFields: {
    repoURL: 'RepoURL',
    tag: 'Tag',
    digest: 'Digest',
    createdAt: 'CreatedAt',
  },

  expressionFunctions(images, owner) {
    const imageFrom: ExprFunction = repoURL => {
      const found = images.find(i => i.repoURL === repoURL);
      if (!found)
        throw new ExpressionError(
          `${owner} has no image from ${String(repoURL)}`,
        );
      return found;
    };
    return { imageFrom };
  },

  label: i => ({
    label: `${compactRepoURL(i.repoURL)}:${i.tag}`,
    detail: `Image ${i.repoURL}:${i.tag}${i.digest ? ` @ ${i.digest}` : ''}`,
  }),

  listedLabel: e => String(e.tag),

  matchesChange(change, sub) {
    if (change.kind !== 'image') return false;
    const wanted = normalizeImageRepository(sub.repoURL);
    return (change.repositories ?? []).some(
      r => normalizeImageRepository(r) === wanted,
    );
  },

  manual: {
    requestSchema: requestedImageSchema,
    requestShape: '[{"repoURL", "tag" or "digest"}]',
    describe: i =>
      `image ${i.repoURL}${i.tag ? `:${i.tag}` : ''}${
        i.digest ? `@${i.digest}` : ''
      }`,
    source: i => i.repoURL,
    belongs: (i, sub) => sameImageRepository(sub.repoURL, i.repoURL),
    match(img, listed) {
      const entries = listed.filter(
        e =>
          (!img.tag || e.tag === img.tag) &&
          // a listed tag without its digest is checked once resolved
          (!img.digest ||
            (e.digest === undefined
              ? img.tag !== undefined
              : e.digest === img.digest)),
      );
      const tags = [...new Set(entries.map(e => String(e.tag)))];
      if (!img.tag && tags.length > 1) {
        return {
          entries,
          ambiguous: `is discovered under several tags (${tags.join(
            ', ',
          )}): name the tag too`,
        };
      }
      const hint =
        !img.tag && listed.some(e => e.digest === undefined)
          ? 'the listing shows most tags without their digest: name the tag'
          : undefined;
      return { entries, hint };
    },
    isComplete: e => typeof e.tag === 'string' && typeof e.digest === 'string',
    confirm: (img, artifact, sub) =>
      img.digest && artifact.digest !== img.digest
        ? `tag ${String(artifact.tag)} of ${sub.repoURL} is ${String(
            artifact.digest,
          )} now, not ${
            img.digest
          } (pushed again?); name the tag alone, or refresh the warehouse`
        : undefined,
    goneHint: " (or not for the subscription's platform)",
  },
};
