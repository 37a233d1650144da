import fs from 'node:fs/promises';
import path from 'node:path';
import { Document, isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { z } from 'zod';
import type { StoredFreight } from '../../store/FreightStore';
import { confinedPath, pathInRepository, StepConfigError } from '../workDir';
import { checkOrigin, freightImage, fromOriginSchema } from './freightArtifacts';
import { findKustomization } from './kustomizationFile';
import { StepDefinition } from './types';
import { toStringLike } from './yamlStyle';

// Kargo treats "" like an absent tag or digest (an expression may well produce one).
const optionalText = (pattern: RegExp, what: string) =>
  z
    .string()
    .nullish()
    .transform(v => v || undefined)
    .refine(v => v === undefined || pattern.test(v), { message: `must be ${what}` });

const imageSchema = z
  .object({
    image: z.string().min(1),
    tag: optionalText(/^\w[\w.-]{0,127}$/, 'an image tag such as 1.2.3'),
    digest: optionalText(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'a digest such as sha256:…'),
    useDigest: z.boolean().optional(),
    name: z.string().optional(),
    newName: z.string().optional(),
    fromOrigin: fromOriginSchema.optional(),
  })
  .strict()
  .refine(i => !(i.tag && i.digest), { message: 'set tag or digest, not both' })
  .refine(i => !(i.useDigest && (i.tag || i.digest)), {
    message: 'useDigest takes the digest from the freight: leave tag and digest unset',
  });

const schema = z
  .object({
    path: z.string().min(1),
    images: z.array(imageSchema).optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

/** One `images:` entry of a kustomization, as it should read afterwards. */
interface ImageTarget {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

function targetsFromConfig(freight: StoredFreight, images: NonNullable<Config['images']>): ImageTarget[] {
  const byName = new Map<string, ImageTarget>();
  images.forEach((img, i) => {
    const field = `images[${i}]`;
    const name = img.name || img.image;
    if (byName.has(name)) throw new StepConfigError(`${field}: image "${name}" is already set by an earlier entry`);
    const target: ImageTarget = { name, newName: img.newName || undefined };
    if (img.tag) target.newTag = img.tag;
    else if (img.digest) target.digest = img.digest;
    else {
      checkOrigin(freight, img.fromOrigin, field);
      const found = freightImage(freight, img.image, `${field}.image`);
      if (img.useDigest) target.digest = found.digest;
      else target.newTag = found.tag;
    }
    byName.set(name, target);
  });
  return [...byName.values()];
}

/** Without `images`, every image of the freight is set by its repository name, tag and digest (as Kargo does). */
function targetsFromFreight(freight: StoredFreight): ImageTarget[] {
  const byName = new Map<string, ImageTarget>();
  for (const img of freight.artifacts.images) {
    if (byName.has(img.repoURL)) {
      throw new StepConfigError(
        `images: the freight being promoted has image "${img.repoURL}" more than once, so which one to use is ambiguous: list images explicitly`,
      );
    }
    byName.set(img.repoURL, { name: img.repoURL, newTag: img.tag, digest: img.digest || undefined });
  }
  return [...byName.values()];
}

function imagesList(doc: Document, shown: string): YAMLSeq {
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  if (!isMap(doc.contents)) throw new StepConfigError(`${shown} is not a kustomization: it is not a YAML mapping`);
  const existing = doc.get('images', true);
  if (existing === undefined || existing === null || (isSeq(existing) && existing.items.length === 0)) {
    doc.set('images', doc.createNode([]));
  } else if (!isSeq(existing)) {
    throw new StepConfigError(`${shown}: images must be a list`);
  }
  return doc.get('images', true) as YAMLSeq;
}

/** Edits entries in place, so their comments and any other fields stay as they are. */
function applyTarget(doc: Document, list: YAMLSeq, target: ImageTarget): void {
  let entry = list.items.find((it): it is YAMLMap => isMap(it) && it.get('name') === target.name);
  if (!entry) {
    entry = doc.createNode({ name: target.name }) as YAMLMap;
    list.items.push(entry);
  }
  if (target.newName) entry.set('newName', target.newName);
  for (const key of ['newTag', 'digest'] as const) {
    if (target[key] !== undefined) entry.set(key, target[key]);
    else entry.delete(key);
  }
}

function reference(t: ImageTarget): string {
  return `${t.newName ?? t.name}${t.newTag ? `:${t.newTag}` : ''}${t.digest ? `@${t.digest}` : ''}`;
}

/** Sets images in a kustomization file (what `kustomize edit set image` does), keeping its comments. */
export const kustomizeSetImage: StepDefinition<Config> = {
  name: 'kustomize-set-image',
  description: "Set container images in a kustomization file's images list, from the freight or as given.",
  schema,
  async run(ctx, config) {
    const dir = await confinedPath(ctx.workDir, config.path, 'path', { writes: true });
    const file = await findKustomization(dir, config.path);
    const shown = pathInRepository(ctx.workDir, file, path.join(config.path, path.basename(file)));
    const targets = config.images
      ? targetsFromConfig(ctx.freight, config.images)
      : targetsFromFreight(ctx.freight);
    if (targets.length === 0) {
      return { status: 'Succeeded', message: `the freight being promoted has no images: ${shown} is unchanged` };
    }
    const text = await fs.readFile(file, 'utf8');
    const doc = parseDocument(text);
    if (doc.errors.length) throw new StepConfigError(`${shown} is not valid YAML: ${doc.errors[0].message}`);
    const list = imagesList(doc, shown);
    for (const target of targets) applyTarget(doc, list, target);
    await fs.writeFile(file, toStringLike(doc, text));
    const refs = targets.map(reference).sort();
    return {
      status: 'Succeeded',
      message: `set ${refs.join(', ')} in ${shown}`,
      outputs: {
        commitMessage: `Updated ${shown} to use new image${refs.length > 1 ? 's' : ''}\n\n${refs.map(r => `- ${r}`).join('\n')}`,
      },
    };
  },
};
