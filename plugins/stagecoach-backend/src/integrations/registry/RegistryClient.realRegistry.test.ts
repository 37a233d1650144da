import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestRegistry, TestRegistry } from '../../__testUtils__/registry';
import {
  RegistryProxy,
  selfSignedCertificate,
  startRegistryProxy,
} from '../../__testUtils__/registryProxy';
import { RegistryError } from './errors';
import { parseImageRepository } from './imageReference';
import { RegistryClient, RegistryClientOptions } from './RegistryClient';
import { resolveTag } from './resolveImage';

jest.setTimeout(60_000);

const PASSWORD = 's3cret-Pa55word-never-shown';

describe('RegistryClient against a real docker-registry on loopback', () => {
  let registry: TestRegistry;
  const clients: RegistryClient[] = [];
  const proxies: RegistryProxy[] = [];
  const client = (options: RegistryClientOptions = {}) => {
    const c = new RegistryClient(options);
    clients.push(c);
    return c;
  };
  const proxy = async (
    options: Omit<Parameters<typeof startRegistryProxy>[0], 'target'> = {},
  ) => {
    const p = await startRegistryProxy({ target: registry.url, ...options });
    proxies.push(p);
    return p;
  };
  const errorOf = async (p: Promise<unknown>): Promise<RegistryError> => {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(RegistryError);
      return e as RegistryError;
    }
    throw new Error('expected the call to fail');
  };

  beforeAll(async () => {
    registry = await startTestRegistry();
    const first = await registry.pushImage('many', '0.0.1');
    await registry.tagMany(
      'many',
      first.digest,
      Array.from(
        { length: 249 },
        (_, i) => `1.${Math.floor(i / 10)}.${i % 10}`,
      ),
    );
    await registry.pushImage('app', '1.0.0', {
      created: '2026-01-01T00:00:00Z',
    });
    await registry.pushImage('docker', '1.0.0', {
      docker: true,
      created: '2026-01-01T00:00:00Z',
    });
    await registry.pushIndex('multi', '1.0.0', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await Promise.all(proxies.map(p => p.close()));
    await registry?.close();
  });

  it('lists every tag across Link-paginated pages', async () => {
    const p = await proxy({ maxPageSize: 100 });
    const tags = await client({ tagPageSize: 100 }).listTags(
      parseImageRepository(`${p.host}/many`),
    );
    expect(tags).toHaveLength(250);
    expect(new Set(tags).size).toBe(250);
    expect(p.count('tags', 'GET')).toBe(3);
    expect(
      p.requests
        .filter(r => r.kind === 'tags')
        .map(r => new URL(r.url, p.url).searchParams.get('last')),
    ).toEqual([null, expect.any(String), expect.any(String)]);
  });

  it('keeps to the requests per second configured for a host', async () => {
    // 2 a second: the first two at once, the next ones at least 500 ms apart
    const sent: number[] = [];
    const limited = client({
      requestsPerSecond: host => (host === registry.host ? 2 : undefined),
      onRequest: () => sent.push(performance.now()),
    });
    const started = performance.now();
    for (let i = 0; i < 4; i++) await limited.listTags(parseImageRepository(`${registry.host}/app`));
    // the requests are answered once each; what matters is when they could leave
    expect(sent).toHaveLength(4);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('reads OCI and Docker v2 manifests, configs, and digests that match what was pushed', async () => {
    const c = client();
    const oci = await registry.pushImage('app', '1.1.0', {
      created: '2026-02-03T04:05:06Z',
    });
    const repo = parseImageRepository(`${registry.host}/app`);
    expect(await c.headManifest(repo, '1.1.0')).toEqual({
      digest: oci.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    const got = await c.getManifest(repo, '1.1.0');
    expect(got.digest).toBe(oci.digest);
    expect(got.manifest.kind).toBe('image');
    const config = await c.getConfig(
      repo,
      got.manifest.kind === 'image' ? got.manifest.config : { digest: '' },
    );
    expect(config).toMatchObject({
      created: '2026-02-03T04:05:06.000Z',
      os: 'linux',
      architecture: 'amd64',
    });

    const docker = await c.getManifest(
      parseImageRepository(`${registry.host}/docker`),
      '1.0.0',
    );
    expect(docker.manifest).toMatchObject({
      kind: 'image',
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
    expect(await c.headManifest(repo, 'no-such-tag')).toBeUndefined();
  });

  it('resolves a multi-arch index to the platform image, linux/amd64 by default', async () => {
    const index = await registry.pushIndex('multi', '2.0.0', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    const c = client();
    const repo = parseImageRepository(`${registry.host}/multi`);
    expect(await resolveTag(c, repo, '2.0.0')).toEqual({
      found: true,
      image: {
        digest: index.platforms['linux/amd64'],
        tagDigest: index.digest,
      },
    });
    const arm = await resolveTag(c, repo, '2.0.0', {
      platform: { os: 'linux', architecture: 'arm64' },
      withCreated: true,
    });
    expect(arm).toEqual({
      found: true,
      image: {
        digest: index.platforms['linux/arm64/v8'],
        tagDigest: index.digest,
        createdAt: expect.any(String),
      },
    });
    expect(
      await resolveTag(c, repo, '2.0.0', {
        platform: { os: 'windows', architecture: 'amd64' },
      }),
    ).toEqual({ found: true, image: undefined });
    expect(await resolveTag(c, repo, '9.9.9')).toEqual({ found: false });
  });

  describe('bearer-token registry (401 challenge, /token realm with basic credentials)', () => {
    it('gets a token with the configured credentials, caches it, and sends it from then on', async () => {
      const p = await proxy({ auth: { username: 'ci', password: PASSWORD } });
      const c = client({
        credentials: () => ({ username: 'ci', password: PASSWORD }),
      });
      const repo = parseImageRepository(`${p.host}/app`);
      // concurrent from the start: one request learns the challenge, the others wait for its token
      const [tags] = await Promise.all([
        c.listTags(repo),
        c.headManifest(repo, '1.0.0'),
        c.getManifest(repo, '1.0.0'),
        c.listTags(repo),
      ]);
      expect(tags).toEqual(expect.arrayContaining(['1.0.0']));
      await c.headManifest(repo, '1.0.0');
      expect(p.count('token')).toBe(1);
      expect(p.requests.filter(r => r.status === 401)).toHaveLength(1);
      expect(
        p.requests.filter(
          r => r.kind !== 'token' && r.status !== 200 && r.status !== 401,
        ),
      ).toEqual([]);
    });

    it('renews a token when it expires, without meeting a 401 again', async () => {
      const p = await proxy({
        auth: { username: 'ci', password: PASSWORD, expiresInSeconds: 1 },
      });
      const c = client({
        credentials: () => ({ username: 'ci', password: PASSWORD }),
      });
      const repo = parseImageRepository(`${p.host}/app`);
      await c.listTags(repo);
      await new Promise(r => setTimeout(r, 700));
      await c.listTags(repo);
      expect(p.count('token')).toBe(2);
      expect(p.requests.filter(r => r.status === 401)).toHaveLength(1);
    });

    it('reports every request to onRequest', async () => {
      const events: string[] = [];
      const p = await proxy({ auth: { username: 'ci', password: PASSWORD } });
      const c = client({
        credentials: () => ({ username: 'ci', password: PASSWORD }),
        onRequest: e => events.push(`${e.kind} ${e.method} ${e.status}`),
      });
      await c.listTags(parseImageRepository(`${p.host}/app`));
      expect(events).toEqual(['tags GET 401', 'token GET 200', 'tags GET 200']);
    });

    it('fails without credentials, or with wrong ones, with an actionable 401 and no secret', async () => {
      const p = await proxy({ auth: { username: 'ci', password: PASSWORD } });
      const repo = parseImageRepository(`${p.host}/app`);
      const none = await errorOf(client().listTags(repo));
      expect(none.message).toBe(
        `registry answered 401 for ${p.host}/app: check the credentials for ${p.host} (none are configured for it in stagecoach.registries, nor in a credential Secret of the project: see docs/credentials.md)`,
      );
      const wrong = await errorOf(
        client({
          credentials: () => ({ username: 'ci', password: `${PASSWORD}-old` }),
        }).listTags(repo),
      );
      expect(wrong.message).toBe(
        `registry answered 401 for ${p.host}/app: check the credentials for ${p.host}`,
      );
      expect(wrong.kind).toBe('unauthorized');
      for (const e of [none, wrong]) {
        expect(e.message).not.toContain(PASSWORD);
        expect(String(e.stack)).not.toContain(PASSWORD);
        expect(JSON.stringify(e)).not.toContain(PASSWORD);
      }
    });

    it('reports a registry that keeps refusing a fresh token as a 401', async () => {
      const p = await proxy({ auth: { username: 'ci', password: PASSWORD } });
      p.setFault('401');
      const e = await errorOf(
        client({
          credentials: () => ({ username: 'ci', password: PASSWORD }),
        }).listTags(parseImageRepository(`${p.host}/app`)),
      );
      expect(e.message).toBe(
        `registry answered 401 for ${p.host}/app: check the credentials for ${p.host}`,
      );
      expect(e.message).not.toContain(PASSWORD);
    });
  });

  describe('faults', () => {
    it('a 500 names the registry and what was asked', async () => {
      const p = await proxy();
      p.setFault('500');
      const e = await errorOf(
        client().listTags(parseImageRepository(`${p.host}/app`)),
      );
      expect(e.message).toBe(
        `registry ${p.host} answered 500 for app/tags/list`,
      );
      expect(e.kind).toBe('server');
    });

    it('a registry that never answers times out with the configured limit', async () => {
      const p = await proxy();
      p.setFault('hang');
      const started = Date.now();
      const e = await errorOf(
        client({ timeoutMs: 300 }).listTags(
          parseImageRepository(`${p.host}/app`),
        ),
      );
      expect(e.message).toBe(
        `registry ${p.host} did not answer within 300ms for app/tags/list`,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      const e2 = await errorOf(
        client({ timeoutMs: 1000 }).getManifest(
          parseImageRepository(`${p.host}/app`),
          '1.0.0',
        ),
      );
      expect(e2.message).toBe(
        `registry ${p.host} did not answer within 1s for app/manifests/1.0.0`,
      );
    });

    it('malformed JSON is reported as such', async () => {
      const p = await proxy();
      p.setFault('malformed');
      const c = client();
      const repo = parseImageRepository(`${p.host}/app`);
      expect((await errorOf(c.listTags(repo))).message).toBe(
        `registry ${p.host} sent malformed JSON for app/tags/list`,
      );
      expect((await errorOf(c.getManifest(repo, '1.0.0'))).message).toBe(
        `registry ${p.host} sent malformed JSON for app/manifests/1.0.0`,
      );
    });

    it('a missing repository, and a registry that is not there', async () => {
      const e = await errorOf(
        client().listTags(parseImageRepository(`${registry.host}/acme/nope`)),
      );
      expect(e.message).toBe(
        `repository acme/nope not found on ${registry.host}`,
      );
      const p = await proxy();
      const gone = p.host;
      await p.close();
      const down = await errorOf(
        client().listTags(parseImageRepository(`${gone}/app`)),
      );
      expect(down.message).toBe(
        `could not reach registry ${gone} (ECONNREFUSED) for app/tags/list`,
      );
    });
  });

  describe('TLS', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-tls-'));
    });
    afterAll(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('refuses a self-signed certificate unless insecureSkipTLSVerify is set', async () => {
      const p = await proxy({ tls: selfSignedCertificate(dir) });
      const c = client({ plainHTTP: () => false });
      const repo = parseImageRepository(`${p.host}/app`);
      const e = await errorOf(c.listTags(repo));
      expect(e.kind).toBe('tls');
      expect(e.message).toMatch(
        new RegExp(
          `^the TLS certificate of registry ${p.host} could not be verified \\(.+\\); .*insecureSkipTLSVerify`,
        ),
      );
      expect(await c.listTags(repo, { insecureSkipTLSVerify: true })).toEqual(
        expect.arrayContaining(['1.0.0']),
      );
    });

    it('runs the token flow over HTTPS too, the token service taking the same TLS choice', async () => {
      const p = await proxy({
        tls: selfSignedCertificate(dir),
        auth: { username: 'ci', password: PASSWORD },
      });
      const c = client({
        plainHTTP: () => false,
        credentials: () => ({ username: 'ci', password: PASSWORD }),
      });
      expect(
        await c.listTags(parseImageRepository(`${p.host}/app`), {
          insecureSkipTLSVerify: true,
        }),
      ).toEqual(expect.arrayContaining(['1.0.0']));
      expect(p.count('token')).toBe(1);
    });
  });
});
