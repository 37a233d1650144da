import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { describeRepository, isRegistryError, RegistryError } from '../../integrations/registry';
import { describeArtifact, manifestReference, parseArtifactReference } from '../../integrations/registry/artifactReference';
import { BlobDescriptor, downloadBlob, formatBytes } from '../../integrations/registry/blobTransfer';
import { confinedPath, StepConfigError } from '../workDir';
import { StepDefinition, StepResult } from './types';

/** As Kargo: large enough for charts and bundles, small enough to protect the disk. */
export const MAX_OCI_DOWNLOAD_BYTES = 100 * 2 ** 20;
/** A layer of 100 MiB over a slow link takes minutes, not the 30 s a manifest gets. */
const BLOB_TIMEOUT_MS = 10 * 60_000;

const schema = z
  .object({
    imageRef: z.string().min(1),
    outPath: z.string().min(1),
    mediaType: z.string().min(1).optional(),
    allowOverwrite: z.boolean().default(false),
    insecureSkipTLSVerify: z.boolean().default(false),
  })
  .strict();

type Config = z.infer<typeof schema>;

interface Layer extends BlobDescriptor {
  mediaType?: string;
}

/** The layer to take: the one of `mediaType`, else the only one; a choice that is not clear fails naming the layers. */
export function chooseLayer(layers: Layer[], mediaType: string | undefined, shown: string): Layer {
  const list = () => layers.map(l => `${l.mediaType ?? '(no media type)'} (${l.size === undefined ? '?' : formatBytes(l.size)})`).join(', ');
  if (layers.length === 0) throw new StepConfigError(`imageRef: ${shown} has no layers`);
  if (mediaType) {
    const found = layers.find(l => l.mediaType === mediaType);
    if (!found) throw new StepConfigError(`mediaType: ${shown} has no layer of media type ${mediaType} (its layers: ${list()})`);
    return found;
  }
  if (layers.length > 1) {
    throw new StepConfigError(`mediaType: ${shown} has ${layers.length} layers; name the one to take with mediaType (its layers: ${list()})`);
  }
  return layers[0];
}

const PERMANENT = new Set(['not-found', 'unauthorized', 'forbidden', 'too-large', 'malformed', 'egress-refused', 'insecure-realm', 'tls']);

/** A registry problem retrying cannot fix fails the step at once; the others count against its retries. */
export function registryFailure(e: unknown): never {
  if (isRegistryError(e) && PERMANENT.has(e.kind)) throw new StepConfigError(e.message);
  throw e;
}

/** Downloads one layer of an OCI artifact (a Helm chart, a bundle of files) into the work directory. */
export const ociDownload: StepDefinition<Config> = {
  name: 'oci-download',
  description: 'Download a layer of an OCI artifact (a Helm chart, a bundle) from a registry into the work directory.',
  schema,
  async run(ctx, config): Promise<StepResult> {
    let ref;
    try {
      ref = parseArtifactReference(config.imageRef);
    } catch (e) {
      throw new StepConfigError(`imageRef: ${(e as Error).message}`);
    }
    const shown = describeArtifact(ref);
    const target = await confinedPath(ctx.workDir, config.outPath, 'outPath', { writes: true });
    const existing = await fs.lstat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new StepConfigError(`outPath "${config.outPath}" is a directory; name the file to write`);
    if (existing && !config.allowOverwrite) {
      return { status: 'Failed', message: `outPath "${config.outPath}" already exists; set allowOverwrite: true to replace it` };
    }
    const call = {
      // the project's own credential for the repository, else stagecoach.registries'
      ...(await ctx.registryCredentials?.(describeRepository(ref))),
      egress: ctx.egress,
      signal: ctx.signal,
      insecureSkipTLSVerify: config.insecureSkipTLSVerify,
    };
    const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.download`);
    try {
      const manifest = await ctx.registry.getManifestBytes(ref, manifestReference(ref), call).catch(registryFailure);
      const json = JSON.parse(manifest.body.toString('utf8'));
      if (Array.isArray(json?.manifests)) {
        const platforms = json.manifests
          .map((m: any) => (m?.platform ? `${m.platform.os}/${m.platform.architecture}` : m?.digest))
          .join(', ');
        throw new StepConfigError(
          `imageRef: ${shown} is an index of ${json.manifests.length} manifests (${platforms}); name one of them by digest`,
        );
      }
      const layers: Layer[] = (Array.isArray(json?.layers) ? json.layers : []).filter(
        (l: any) => l && typeof l.digest === 'string',
      );
      const layer = chooseLayer(layers, config.mediaType, shown);
      await fs.mkdir(path.dirname(target), { recursive: true });
      const size = await downloadBlob(ctx.registry, ref, layer, partial, {
        ...call,
        maxBytes: MAX_OCI_DOWNLOAD_BYTES,
        timeoutMs: BLOB_TIMEOUT_MS,
      }).catch(registryFailure);
      await fs.rename(partial, target);
      return {
        status: 'Succeeded',
        message: `downloaded the ${layer.mediaType ?? ''} layer of ${shown} (${manifest.digest}) to ${config.outPath} (${formatBytes(size)})`,
      };
    } catch (e) {
      if (e instanceof RegistryError && e.kind === 'too-large') throw new StepConfigError(e.message);
      throw e;
    } finally {
      await fs.rm(partial, { force: true });
    }
  },
};
