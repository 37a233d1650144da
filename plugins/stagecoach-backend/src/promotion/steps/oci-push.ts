import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { copyArtifact } from '../../integrations/registry/artifactCopy';
import { ArtifactReference, describeArtifact, parseArtifactReference } from '../../integrations/registry/artifactReference';
import { formatBytes } from '../../integrations/registry/blobTransfer';
import { describeRepository } from '../../integrations/registry';
import { StepConfigError } from '../workDir';
import { registryFailure } from './oci-download';
import { StepDefinition } from './types';

/** As Kargo's default: the config and layers in all, across an index's images. */
export const MAX_OCI_PUSH_BYTES = 2 ** 30;
const BLOB_TIMEOUT_MS = 15 * 60_000;

const schema = z
  .object({
    srcRef: z.string().min(1).optional(),
    /** Kargo's newer name for srcRef. */
    imageRef: z.string().min(1).optional(),
    destRef: z.string().min(1),
    annotations: z.record(z.string()).optional(),
    insecureSkipTLSVerify: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, issue) => {
    if ((c.srcRef === undefined) === (c.imageRef === undefined)) {
      issue.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['srcRef'],
        message: c.srcRef === undefined ? 'name the artifact to copy (srcRef)' : 'give srcRef or imageRef (its other name), not both',
      });
    }
  });

type Config = z.infer<typeof schema>;

function reference(text: string, field: string): ArtifactReference {
  try {
    return parseArtifactReference(text);
  } catch (e) {
    throw new StepConfigError(`${field}: ${(e as Error).message}`);
  }
}

/** `index:key` goes on the index, `manifest:key` and plain `key` on each image manifest. */
export function scopedAnnotations(given: Record<string, string> = {}) {
  const scoped = { index: {} as Record<string, string>, manifest: {} as Record<string, string> };
  for (const [key, value] of Object.entries(given)) {
    const m = /^(index|manifest):(.+)$/.exec(key);
    if (m) scoped[m[1] as 'index' | 'manifest'][m[2]] = value;
    else scoped.manifest[key] = value;
  }
  return scoped;
}

/** Copies an image or OCI artifact (an index with all its images) to another repository or registry, under a tag. */
export const ociPush: StepDefinition<Config> = {
  name: 'oci-push',
  description: 'Copy an image or OCI artifact (a Helm chart, a multi-platform index) to a repository, under a tag.',
  schema,
  async run(ctx, config) {
    const srcField = config.srcRef !== undefined ? 'srcRef' : 'imageRef';
    const src = reference((config.srcRef ?? config.imageRef)!, srcField);
    const dest = reference(config.destRef, 'destRef');
    if (!dest.tag || dest.digest) {
      throw new StepConfigError(`destRef: "${config.destRef}" must name a tag and no digest (registry/repository:tag)`);
    }
    const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-oci-push-'));
    try {
      const copied = await copyArtifact(ctx.registry, src, { ...dest, tag: dest.tag }, {
        // the project's own credential for each repository, else stagecoach.registries'
        source: await ctx.registryCredentials?.(describeRepository(src)),
        destination: await ctx.registryCredentials?.(describeRepository(dest)),
        egress: ctx.egress,
        signal: ctx.signal,
        insecureSkipTLSVerify: config.insecureSkipTLSVerify,
        annotations: scopedAnnotations(config.annotations),
        maxTotalBytes: MAX_OCI_PUSH_BYTES,
        tmpDir,
        blobTimeoutMs: BLOB_TIMEOUT_MS,
      }).catch(registryFailure);
      const image = `${describeRepository(dest)}:${dest.tag}`;
      const { copied: n, mounted, present, bytes } = copied.blobs;
      const moved = [
        n ? `${n} blob${n === 1 ? '' : 's'} copied (${formatBytes(bytes)})` : '',
        mounted ? `${mounted} mounted` : '',
        present ? `${present} already there` : '',
      ].filter(Boolean);
      return {
        status: 'Succeeded',
        message: `pushed ${describeArtifact(src)} to ${image} (${copied.digest})${moved.length ? `: ${moved.join(', ')}` : ''}`,
        outputs: { image, digest: copied.digest, tag: dest.tag },
      };
    } finally {
      await fs.rm(tmpDir, { recursive: true, force: true });
    }
  },
};
