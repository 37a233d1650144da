import fsp from 'node:fs/promises';
import path from 'node:path';
import { ArtifactReference, describeArtifact, manifestReference } from './artifactReference';
import {
  BlobDescriptor,
  downloadBlob,
  formatBytes,
  hasBlob,
  mountBlob,
  putManifest,
  uploadBlob,
} from './blobTransfer';
import { RegistryError } from './errors';
import { describeRepository, ImageRepository } from './imageReference';
import { CallOptions, RegistryClient, sha256 } from './RegistryClient';

/**
 * Copies an image or artifact (a manifest and its blobs; an index with every manifest it
 * lists) from one repository to another, on the same registry or across registries.
 * Blobs the destination has are skipped; on the same registry they are mounted; otherwise
 * they pass through a file in `tmpDir`, one at a time.
 */

export interface CopyOptions extends CallOptions {
  /** The credentials of the source's and of the destination's calls when they differ (a project's own for each repository). */
  source?: Pick<CallOptions, 'credentials' | 'credentialsName'>;
  destination?: Pick<CallOptions, 'credentials' | 'credentialsName'>;
  /** Set on the destination: on the index (an index only) and on each image manifest. */
  annotations?: { index: Record<string, string>; manifest: Record<string, string> };
  /** The most the blobs may take in all (their compressed sizes), unless nothing moves (a retag in place). */
  maxTotalBytes: number;
  /** Where blobs pass through on their way; a folder the caller owns and removes. */
  tmpDir: string;
  /** Deadline of one blob's download or upload. */
  blobTimeoutMs?: number;
}

export interface CopyResult {
  /** The digest of what the destination tag now names. */
  digest: string;
  mediaType: string;
  blobs: { copied: number; mounted: number; present: number; bytes: number };
}

interface Node {
  digest: string;
  mediaType: string;
  body: Buffer;
  json: Record<string, any>;
  children: Node[];
  blobs: BlobDescriptor[];
}

const MAX_DEPTH = 2;

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

function blobList(json: Record<string, any>): BlobDescriptor[] {
  const list = [json.config, ...(Array.isArray(json.layers) ? json.layers : [])];
  return list.filter(d => isObject(d) && typeof d.digest === 'string') as BlobDescriptor[];
}

async function readTree(
  client: RegistryClient,
  repo: ImageRepository,
  reference: string,
  call: CallOptions,
  depth: number,
): Promise<Node> {
  const got = await client.getManifestBytes(repo, reference, call);
  let json: unknown;
  try {
    json = JSON.parse(got.body.toString('utf8'));
  } catch {
    json = undefined;
  }
  if (!isObject(json)) {
    throw new RegistryError('malformed', `manifest ${reference} of ${describeRepository(repo)} is not a JSON object`);
  }
  const node: Node = { ...got, json, children: [], blobs: [] };
  if (Array.isArray(json.manifests)) {
    if (depth >= MAX_DEPTH) {
      throw new RegistryError('malformed', `manifest ${reference} of ${describeRepository(repo)} nests indexes too deep`);
    }
    for (const d of json.manifests) {
      if (!isObject(d) || typeof d.digest !== 'string') {
        throw new RegistryError('malformed', `index ${reference} of ${describeRepository(repo)} lists a manifest without a digest`);
      }
      node.children.push(await readTree(client, repo, d.digest, call, depth + 1));
    }
  } else {
    node.blobs = blobList(json);
  }
  return node;
}

function allBlobs(node: Node, into = new Map<string, BlobDescriptor>()): Map<string, BlobDescriptor> {
  for (const b of node.blobs) into.set(b.digest, b);
  for (const c of node.children) allBlobs(c, into);
  return into;
}

const sameRepository = (a: ImageRepository, b: ImageRepository) =>
  a.registry === b.registry && a.repository === b.repository;

/** The manifest with annotations added (new bytes, so a new digest), or as it was. */
function annotated(node: Pick<Node, 'mediaType' | 'body' | 'json'>, annotations: Record<string, string> | undefined): { mediaType: string; body: Buffer } {
  if (!annotations || Object.keys(annotations).length === 0) return node;
  const json = { ...node.json, annotations: { ...(isObject(node.json.annotations) ? node.json.annotations : {}), ...annotations } };
  return { mediaType: node.mediaType, body: Buffer.from(JSON.stringify(json)) };
}

export async function copyArtifact(
  client: RegistryClient,
  src: ArtifactReference,
  dest: ImageRepository & { tag: string },
  options: CopyOptions,
): Promise<CopyResult> {
  const { annotations, maxTotalBytes, tmpDir, blobTimeoutMs, source, destination, ...shared } = options;
  // reads go with the source's credentials, writes (and mounts, checks) with the destination's
  const from: CallOptions = { ...shared, ...source };
  const call: CallOptions = { ...shared, ...destination };
  const root = await readTree(client, src, manifestReference(src), from, 0);
  const blobs = [...allBlobs(root).values()];
  const inPlace = sameRepository(src, dest);
  const counts = { copied: 0, mounted: 0, present: 0, bytes: 0 };

  if (!inPlace) {
    const declared = blobs.reduce((sum, b) => sum + (b.size ?? 0), 0);
    if (declared > maxTotalBytes) {
      throw new RegistryError(
        'too-large',
        `${describeArtifact(src)} is ${formatBytes(declared)} in all (config and layers), more than the ${formatBytes(maxTotalBytes)} allowed`,
      );
    }
    const sameRegistry = src.registry === dest.registry;
    for (const [i, blob] of blobs.entries()) {
      if (await hasBlob(client, dest, blob.digest, call)) {
        counts.present++;
        continue;
      }
      const session = sameRegistry ? await mountBlob(client, dest, blob.digest, src.repository, call) : undefined;
      if (session === 'mounted') {
        counts.mounted++;
        continue;
      }
      const file = path.join(tmpDir, `blob-${i}`);
      try {
        const size = await downloadBlob(client, src, blob, file, {
          ...from,
          maxBytes: maxTotalBytes - counts.bytes,
          timeoutMs: blobTimeoutMs,
        });
        await uploadBlob(client, dest, { digest: blob.digest, size }, file, { ...call, timeoutMs: blobTimeoutMs }, session);
        counts.copied++;
        counts.bytes += size;
      } finally {
        await fsp.rm(file, { force: true });
      }
    }
  }

  // an index's manifests go first (by digest), then what the tag names
  const pushTree = async (node: Node, reference?: string): Promise<{ digest: string; mediaType: string; size: number }> => {
    let base: Pick<Node, 'mediaType' | 'body' | 'json'> = node;
    let out: { mediaType: string; body: Buffer };
    if (Array.isArray(node.json.manifests)) {
      const entries = node.json.manifests as Record<string, any>[];
      let changed = false;
      const newEntries = [];
      for (const [i, child] of node.children.entries()) {
        const pushed = await pushTree(child);
        if (pushed.digest !== child.digest) changed = true;
        newEntries.push({ ...entries[i], digest: pushed.digest, size: pushed.size });
      }
      if (changed) {
        const json = { ...node.json, manifests: newEntries };
        base = { mediaType: node.mediaType, json, body: Buffer.from(JSON.stringify(json)) };
      }
      out = annotated(base, annotations?.index);
    } else {
      out = annotated(base, annotations?.manifest);
    }
    const digest = sha256(out.body);
    await putManifest(client, dest, reference ?? digest, out, call);
    return { digest, mediaType: out.mediaType, size: out.body.length };
  };
  const pushed = await pushTree(root, dest.tag);
  return { digest: pushed.digest, mediaType: pushed.mediaType, blobs: counts };
}
