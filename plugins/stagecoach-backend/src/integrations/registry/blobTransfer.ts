import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { RegistryError } from './errors';
import { CallOptions, header, RegistryClient } from './RegistryClient';
import { describeRepository, displayRegistry, ImageRepository } from './imageReference';

/**
 * Blobs moved whole: downloaded to a file (streamed, bounded, checked against the digest)
 * and uploaded from one (a monolithic upload: POST then PUT with `?digest=`), or mounted
 * from another repository of the same registry without moving a byte.
 */

export interface BlobDescriptor {
  digest: string;
  size?: number;
  mediaType?: string;
}

export interface BlobCall extends CallOptions {
  /** Fail past this many bytes. */
  maxBytes: number;
  /** Deadline per request; large blobs take longer than a manifest. */
  timeoutMs?: number;
}

/** `12 bytes`, `3.4 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 2 ** 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 2 ** 30) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 2 ** 30).toFixed(2)} GiB`;
}

const hashOf = (digest: string) => {
  const [algorithm, hex] = digest.split(':');
  return algorithm === 'sha256' || algorithm === 'sha512' ? { algorithm, hex } : undefined;
};

/**
 * Writes a blob to `file` (created; never overwritten) and returns its size. What the
 * registry sends must hash to the digest and stay within maxBytes; the file is left for the
 * caller to remove when this throws.
 */
export async function downloadBlob(
  client: RegistryClient,
  repo: ImageRepository,
  blob: BlobDescriptor,
  file: string,
  call: BlobCall,
): Promise<number> {
  const what = `${repo.repository}/blobs/${blob.digest}`;
  if (blob.size !== undefined && blob.size > call.maxBytes) {
    throw new RegistryError(
      'too-large',
      `blob ${blob.digest} of ${describeRepository(repo)} is ${formatBytes(blob.size)}, more than the ${formatBytes(call.maxBytes)} allowed`,
    );
  }
  const expected = hashOf(blob.digest);
  const hash = expected ? createHash(expected.algorithm) : undefined;
  const out = await fsp.open(file, 'wx');
  let size = 0;
  try {
    const { maxBytes, ...rest } = call;
    const res = await client.request(repo, {
      ...rest,
      method: 'GET',
      path: `blobs/${blob.digest}`,
      kind: 'blob',
      what,
      maxBodyBytes: maxBytes,
      sink: async chunk => {
        hash?.update(chunk);
        size += chunk.length;
        await out.write(chunk);
      },
    });
    if (res.status === 404) {
      throw new RegistryError('not-found', `blob ${blob.digest} not found in ${describeRepository(repo)}`, 404);
    }
  } finally {
    await out.close();
  }
  if ((hash && hash.digest('hex') !== expected!.hex) || (blob.size !== undefined && blob.size !== size)) {
    throw new RegistryError(
      'integrity',
      `registry ${displayRegistry(repo.registry)} sent content that does not match its digest for ${what}`,
    );
  }
  return size;
}

/** Whether the repository has the blob already (HEAD; push access, as the caller is about to write). */
export async function hasBlob(
  client: RegistryClient,
  repo: ImageRepository,
  digest: string,
  call: CallOptions,
): Promise<boolean> {
  const res = await client.request(repo, {
    ...call,
    method: 'HEAD',
    path: `blobs/${digest}`,
    kind: 'blob',
    what: `${repo.repository}/blobs/${digest}`,
    maxBodyBytes: 0,
    access: 'push',
  });
  return res.status !== 404;
}

/** Where an upload continues: the Location a POST to `blobs/uploads/` answered with. */
export type UploadSession = { location: URL };

/**
 * Asks the registry to link a blob from another of its repositories (no bytes move).
 * `mounted` when it did; else the upload it started instead (it does not allow the mount,
 * or the token does not cover the source), for uploadBlob to continue.
 */
export async function mountBlob(
  client: RegistryClient,
  repo: ImageRepository,
  digest: string,
  from: string,
  call: CallOptions,
): Promise<'mounted' | UploadSession> {
  return startUpload(client, repo, `mounting ${digest} from ${from} into ${describeRepository(repo)}`, call, {
    mount: digest,
    from,
  });
}

async function startUpload(
  client: RegistryClient,
  repo: ImageRepository,
  what: string,
  call: CallOptions,
  query?: Record<string, string>,
): Promise<'mounted' | UploadSession> {
  const res = await client.request(repo, {
    ...call,
    method: 'POST',
    path: 'blobs/uploads/',
    query,
    kind: 'upload',
    what,
    maxBodyBytes: 64 * 1024,
    access: 'push',
  });
  if (res.status === 201 && query?.mount) return 'mounted';
  const location = header(res, 'location');
  if (res.status !== 202 || !location) {
    throw new RegistryError(
      'unexpected-status',
      `registry ${displayRegistry(repo.registry)} answered ${res.status}${location ? '' : ' without a Location'} when ${what}`,
    );
  }
  return { location: new URL(location, client.apiUrl(repo, '')) };
}

/** Uploads a blob from a file in one PUT (continuing `session` when a mount started one). */
export async function uploadBlob(
  client: RegistryClient,
  repo: ImageRepository,
  blob: { digest: string; size: number },
  file: string,
  call: CallOptions & { timeoutMs?: number },
  session?: UploadSession,
): Promise<void> {
  const what = `uploading ${blob.digest} to ${describeRepository(repo)}`;
  const started = session ?? (await startUpload(client, repo, what, call));
  if (started === 'mounted') return;
  const put = await client.request(repo, {
    ...call,
    method: 'PUT',
    path: started.location,
    query: { digest: blob.digest },
    contentType: 'application/octet-stream',
    body: { length: blob.size, open: () => fs.createReadStream(file) },
    kind: 'upload',
    what,
    maxBodyBytes: 64 * 1024,
    access: 'push',
  });
  if (put.status !== 201) {
    throw new RegistryError(
      'unexpected-status',
      `registry ${displayRegistry(repo.registry)} answered ${put.status} when ${what}`,
    );
  }
}

/** Stores a manifest under a tag or its digest; returns its digest. */
export async function putManifest(
  client: RegistryClient,
  repo: ImageRepository,
  reference: string,
  manifest: { mediaType: string; body: Buffer },
  call: CallOptions,
): Promise<string> {
  const what = `storing manifest ${reference} in ${describeRepository(repo)}`;
  const res = await client.request(repo, {
    ...call,
    method: 'PUT',
    path: `manifests/${reference}`,
    contentType: manifest.mediaType,
    body: manifest.body,
    kind: 'manifest',
    what,
    maxBodyBytes: 64 * 1024,
    access: 'push',
  });
  if (res.status !== 201) {
    throw new RegistryError(
      res.status === 404 ? 'not-found' : 'unexpected-status',
      `registry ${displayRegistry(repo.registry)} answered ${res.status} when ${what}`,
      res.status,
    );
  }
  return `sha256:${createHash('sha256').update(manifest.body).digest('hex')}`;
}
