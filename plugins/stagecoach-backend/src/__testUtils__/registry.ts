import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on a free
 * loopback port with storage in a temp folder, and helpers that push images through its
 * HTTP API the way a client without Docker does: POST an upload, PUT each blob with
 * `?digest=`, PUT the manifest under a tag (or its digest).
 */

export const REGISTRY_BINARY =
  process.env.STAGECOACH_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST =
  'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST =
  'application/vnd.docker.distribution.manifest.list.v2+json';

export interface TestPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface PushImageOptions {
  /** The config's build time (ISO). Default: now. */
  created?: string;
  platform?: TestPlatform;
  /** Docker v2 media types instead of OCI ones. */
  docker?: boolean;
  /** Anything that should make this push's content differ from another with the same options. */
  salt?: string;
}

export interface PushedImage {
  digest: string;
  configDigest: string;
}

export interface PushedIndex {
  digest: string;
  /** The image digest per platform, keyed `os/arch[/variant]`. */
  platforms: Record<string, string>;
}

export interface TestRegistry {
  /** `127.0.0.1:port`: what an image name starts with. */
  host: string;
  /** `http://127.0.0.1:port` */
  url: string;
  pushBlob(repo: string, content: Buffer): Promise<string>;
  /** A single-platform image (config with `created`, one small layer) under `tag`, or by digest only when tag is undefined. */
  pushImage(
    repo: string,
    tag: string | undefined,
    options?: PushImageOptions,
  ): Promise<PushedImage>;
  /** A multi-platform index over one image per platform. */
  pushIndex(
    repo: string,
    tag: string,
    platforms: TestPlatform[],
    options?: Omit<PushImageOptions, 'platform'>,
  ): Promise<PushedIndex>;
  /**
   * A Helm chart as `helm push` stores it: Helm's config and chart-content media types, the
   * packaged chart (a .tgz made by tar) as the layer, tagged by its version with `+` written
   * as `_` (OCI tags cannot hold `+`).
   */
  pushHelmChart(repo: string, name: string, version: string): Promise<PushedImage>;
  /**
   * An OCI artifact (as `oras push` makes one): an empty config of `artifactType`, the layers
   * given, and annotations; under `tag`. `claimedSizes` lets a test say a layer is larger
   * than it is (what a registry cannot be trusted about).
   */
  pushArtifact(
    repo: string,
    tag: string,
    layers: { mediaType: string; content: Buffer; claimedSize?: number }[],
    options?: { artifactType?: string; annotations?: Record<string, string> },
  ): Promise<PushedImage>;
  /** A manifest as the registry serves it: its bytes, media type and digest (Docker-Content-Digest). */
  getManifest(repo: string, reference: string): Promise<{ body: Buffer; mediaType: string; digest: string }>;
  /** The same manifest under many more tags: a repository with many tags, fast (one PUT each). */
  tagMany(repo: string, digest: string, tags: string[]): Promise<void>;
  /**
   * What tagMany does, written straight into the registry's storage instead of over HTTP:
   * for setups of a hundred thousand tags (the benchmark). The manifest must already be in
   * the repository (pushed there under some tag). The registry keeps no cache of tags, so
   * it serves them at once, exactly as if they had been pushed.
   */
  writeTags(repo: string, digest: string, tags: string[]): Promise<void>;
  /** Many single-platform tags, a few at a time. */
  pushTags(
    repo: string,
    tags: string[],
    options?: (tag: string, i: number) => PushImageOptions,
  ): Promise<Record<string, PushedImage>>;
  close(): Promise<void>;
}

const sha256 = (b: Buffer) =>
  `sha256:${createHash('sha256').update(b).digest('hex')}`;
const platformKey = (p: TestPlatform) =>
  [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(
  url: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `docker-registry exited with ${child.exitCode}: ${output()}`,
      );
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`docker-registry did not start within 15s: ${output()}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

export async function startTestRegistry(): Promise<TestRegistry> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-registry-'));
  const port = await freePort();
  const configFile = path.join(root, 'config.yml');
  await fs.writeFile(
    configFile,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      // as the registry ships (its default config.yml): blob descriptors cached in memory
      '  cache:',
      '    blobdescriptor: inmemory',
      '  filesystem:',
      `    rootdirectory: ${path.join(root, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BINARY, ['serve', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const spawnError = new Promise<never>((_, reject) =>
    child.on('error', e =>
      reject(
        new Error(
          `cannot start ${REGISTRY_BINARY}: ${e.message} (install Debian's docker-registry)`,
        ),
      ),
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([waitUntilServing(url, child, () => output), spawnError]);

  async function pushBlob(repo: string, content: Buffer): Promise<string> {
    const digest = sha256(content);
    const exists = await fetch(`${url}/v2/${repo}/blobs/${digest}`, {
      method: 'HEAD',
    });
    if (exists.ok) return digest;
    const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, {
      method: 'POST',
    });
    if (start.status !== 202)
      throw new Error(
        `upload start answered ${start.status}: ${await start.text()}`,
      );
    const location = new URL(start.headers.get('location')!, url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      body: content,
      // fetch sets content-length from the Buffer; one given by hand is refused outside jest
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (put.status !== 201)
      throw new Error(
        `blob upload answered ${put.status}: ${await put.text()}`,
      );
    return digest;
  }

  async function putManifest(
    repo: string,
    reference: string,
    mediaType: string,
    body: Buffer,
  ): Promise<string> {
    const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
      method: 'PUT',
      body,
      headers: { 'content-type': mediaType },
    });
    if (res.status !== 201)
      throw new Error(
        `manifest upload answered ${res.status}: ${await res.text()}`,
      );
    return sha256(body);
  }

  async function pushImage(
    repo: string,
    tag: string | undefined,
    options: PushImageOptions = {},
  ): Promise<PushedImage> {
    const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
    const created = options.created ?? new Date().toISOString();
    const layer = Buffer.from(
      `layer of ${repo}:${tag ?? ''} ${platformKey(platform)} ${created} ${
        options.salt ?? ''
      }`,
    );
    const config = Buffer.from(
      JSON.stringify({
        created,
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Labels: { salt: options.salt ?? '' } },
        rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
      }),
    );
    const configDigest = await pushBlob(repo, config);
    const layerDigest = await pushBlob(repo, layer);
    const mediaType = options.docker ? DOCKER_MANIFEST : OCI_MANIFEST;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: {
          mediaType: options.docker
            ? 'application/vnd.docker.container.image.v1+json'
            : 'application/vnd.oci.image.config.v1+json',
          digest: configDigest,
          size: config.length,
        },
        layers: [
          {
            mediaType: options.docker
              ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
              : 'application/vnd.oci.image.layer.v1.tar',
            digest: layerDigest,
            size: layer.length,
          },
        ],
      }),
    );
    const digest = await putManifest(
      repo,
      tag ?? sha256(manifest),
      mediaType,
      manifest,
    );
    return { digest, configDigest };
  }

  async function pushIndex(
    repo: string,
    tag: string,
    platforms: TestPlatform[],
    options: Omit<PushImageOptions, 'platform'> = {},
  ): Promise<PushedIndex> {
    const images = [];
    for (const platform of platforms)
      images.push({
        platform,
        ...(await pushImage(repo, undefined, { ...options, platform })),
      });
    const mediaType = options.docker ? DOCKER_MANIFEST_LIST : OCI_INDEX;
    const entries = await Promise.all(
      images.map(async i => {
        const res = await fetch(`${url}/v2/${repo}/manifests/${i.digest}`, {
          headers: { accept: options.docker ? DOCKER_MANIFEST : OCI_MANIFEST },
        });
        const size = (await res.arrayBuffer()).byteLength;
        return {
          mediaType: options.docker ? DOCKER_MANIFEST : OCI_MANIFEST,
          digest: i.digest,
          size,
          platform: {
            os: i.platform.os,
            architecture: i.platform.architecture,
            ...(i.platform.variant ? { variant: i.platform.variant } : {}),
          },
        };
      }),
    );
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType, manifests: entries }),
    );
    const digest = await putManifest(repo, tag, mediaType, index);
    return {
      digest,
      platforms: Object.fromEntries(
        images.map(i => [platformKey(i.platform), i.digest]),
      ),
    };
  }

  async function tagMany(
    repo: string,
    digest: string,
    tags: string[],
  ): Promise<void> {
    const res = await fetch(`${url}/v2/${repo}/manifests/${digest}`, {
      headers: { accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` },
    });
    if (!res.ok) throw new Error(`manifest ${digest} answered ${res.status}`);
    const mediaType = res.headers.get('content-type')!;
    const body = Buffer.from(await res.arrayBuffer());
    const queue = [...tags];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let tag = queue.shift(); tag !== undefined; tag = queue.shift())
          await putManifest(repo, tag, mediaType, body);
      }),
    );
  }

  async function writeTags(
    repo: string,
    digest: string,
    tags: string[],
  ): Promise<void> {
    const [algorithm, hex] = digest.split(':');
    const manifests = path.join(
      root,
      'data/docker/registry/v2/repositories',
      repo,
      '_manifests',
    );
    // the manifest must be a revision of this repository, or the tags would point at nothing
    await fs.access(path.join(manifests, 'revisions', algorithm, hex, 'link'));
    // one file at a time, synchronously: on ext4, concurrent creation in one folder is slower
    for (const tag of tags) {
      const current = path.join(manifests, 'tags', tag, 'current');
      const index = path.join(manifests, 'tags', tag, 'index', algorithm, hex);
      fsSync.mkdirSync(current, { recursive: true });
      fsSync.mkdirSync(index, { recursive: true });
      fsSync.writeFileSync(path.join(index, 'link'), digest);
      fsSync.writeFileSync(path.join(current, 'link'), digest);
    }
  }

  async function pushTags(
    repo: string,
    tags: string[],
    options?: (tag: string, i: number) => PushImageOptions,
  ) {
    const pushed: Record<string, PushedImage> = {};
    const queue = tags.map((tag, i) => ({ tag, i }));
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let item = queue.shift(); item; item = queue.shift()) {
          pushed[item.tag] = await pushImage(
            repo,
            item.tag,
            options?.(item.tag, item.i),
          );
        }
      }),
    );
    return pushed;
  }

  async function pushHelmChart(repo: string, name: string, version: string): Promise<PushedImage> {
    const work = await fs.mkdtemp(path.join(root, 'chart-'));
    await fs.mkdir(path.join(work, name));
    await fs.writeFile(path.join(work, name, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
    const packaged = await new Promise<Buffer>((resolve, reject) =>
      execFile('tar', ['-czf', '-', '-C', work, name], { encoding: 'buffer' }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const config = Buffer.from(JSON.stringify({ apiVersion: 'v2', name, version }));
    const configDigest = await pushBlob(repo, config);
    const layerDigest = await pushBlob(repo, packaged);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: configDigest, size: config.length },
        layers: [
          {
            mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
            digest: layerDigest,
            size: packaged.length,
          },
        ],
      }),
    );
    const digest = await putManifest(repo, version.replace(/\+/g, '_'), OCI_MANIFEST, manifest);
    return { digest, configDigest };
  }

  async function pushArtifact(
    repo: string,
    tag: string,
    layers: { mediaType: string; content: Buffer; claimedSize?: number }[],
    options: { artifactType?: string; annotations?: Record<string, string> } = {},
  ): Promise<PushedImage> {
    const config = Buffer.from('{}');
    const configDigest = await pushBlob(repo, config);
    const descriptors = [];
    for (const l of layers) {
      descriptors.push({ mediaType: l.mediaType, digest: await pushBlob(repo, l.content), size: l.claimedSize ?? l.content.length });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: options.artifactType ?? 'application/vnd.oci.empty.v1+json', digest: configDigest, size: config.length },
        layers: descriptors,
        ...(options.annotations ? { annotations: options.annotations } : {}),
      }),
    );
    const digest = await putManifest(repo, tag, OCI_MANIFEST, manifest);
    return { digest, configDigest };
  }

  async function getManifest(repo: string, reference: string) {
    const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
      headers: { accept: [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ') },
    });
    if (!res.ok) throw new Error(`manifest ${repo}:${reference} answered ${res.status}`);
    return {
      body: Buffer.from(await res.arrayBuffer()),
      mediaType: res.headers.get('content-type')!,
      digest: res.headers.get('docker-content-digest')!,
    };
  }

  return {
    host: `127.0.0.1:${port}`,
    url,
    pushBlob,
    pushArtifact,
    getManifest,
    pushImage,
    pushHelmChart,
    pushIndex,
    pushTags,
    tagMany,
    writeTags,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise(r => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null)
          child.kill('SIGKILL');
      }
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
