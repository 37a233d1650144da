import fs from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { Image } from '@stagecoach/plugin-stagecoach-common';
import { confinedPath, pathInRepository, StepConfigError } from '../workDir';
import { checkOrigin, freightImage, fromOriginSchema } from './freightArtifacts';
import { StepDefinition } from './types';
import { readPathText, setAtKeyPath } from './yamlFile';
import { toStringLike } from './yamlStyle';

const VALUE_KINDS = ['Tag', 'Digest', 'ImageAndTag', 'ImageAndDigest'] as const;

const schema = z
  .object({
    path: z.string().min(1),
    images: z
      .array(
        z
          .object({
            image: z.string().min(1),
            key: z.string().min(1),
            value: z.enum(VALUE_KINDS, {
              errorMap: () => ({ message: `must be one of ${VALUE_KINDS.join(', ')}` }),
            }),
            fromOrigin: fromOriginSchema.optional(),
          })
          .strict(),
      )
      .min(1, 'needs at least one image'),
  })
  .strict();

type Config = z.infer<typeof schema>;

function valueOf(kind: (typeof VALUE_KINDS)[number], image: Image): string {
  switch (kind) {
    case 'Tag':
      return image.tag;
    case 'Digest':
      return image.digest;
    case 'ImageAndTag':
      return `${image.repoURL}:${image.tag}`;
    default:
      return `${image.repoURL}@${image.digest}`;
  }
}

/**
 * The step older Kargo manifests use to point a Helm values file at the freight's images:
 * each key gets the image's tag, digest or full reference. Comments and formatting stay.
 */
export const helmUpdateImage: StepDefinition<Config> = {
  name: 'helm-update-image',
  description: "Set keys of a Helm values file to the freight's image tags or digests (Kargo's older step).",
  schema,
  async run(ctx, config) {
    const file = await confinedPath(ctx.workDir, config.path, 'path', { writes: true });
    const text = await readPathText(file, config.path);
    const shown = pathInRepository(ctx.workDir, file, config.path);
    const doc = parseDocument(text);
    if (doc.errors.length) throw new StepConfigError(`${shown} is not valid YAML: ${doc.errors[0].message}`);
    if (doc.contents === null) doc.contents = doc.createNode({}) as never;
    const changes = config.images.map((img, i) => {
      checkOrigin(ctx.freight, img.fromOrigin, `images[${i}]`);
      const value = valueOf(img.value, freightImage(ctx.freight, img.image, `images[${i}].image`));
      setAtKeyPath(doc, img.key, value);
      return `- ${img.key}: ${value}`;
    });
    await fs.writeFile(file, toStringLike(doc, text));
    return {
      status: 'Succeeded',
      message: `updated ${shown}: ${config.images.map(i => i.key).join(', ')}`,
      outputs: {
        commitMessage: `Updated ${shown} to use new image${changes.length > 1 ? 's' : ''}\n\n${changes.join('\n')}`,
      },
    };
  },
};
