import type { ImageSubscription } from './schema';
import {
  PushedImage,
  startTestRegistry,
  TestRegistry,
} from '../../__testUtils__/registry';
import {
  RegistryProxy,
  startRegistryProxy,
} from '../../__testUtils__/registryProxy';
import {
  RegistryClient,
  RegistryClientOptions,
} from '../../integrations/registry/RegistryClient';
import { ImageSubscriber, ImageSubscriberOptions } from './ImageSubscriber';

jest.setTimeout(60_000);

const PASSWORD = 'hunter2-Image-Pull-Secret';

const sub = (
  repoURL: string,
  over: Partial<ImageSubscription> = {},
): ImageSubscription => ({
  repoURL,
  imageSelectionStrategy: 'SemVer',
  strictSemvers: true,
  discoveryLimit: 20,
  ...over,
});

describe('ImageSubscriber against a real docker-registry on loopback', () => {
  let registry: TestRegistry;
  let app: Record<string, PushedImage>;
  const multi: Record<string, string> = {};
  const clients: RegistryClient[] = [];
  const proxies: RegistryProxy[] = [];

  const subscriber = (
    client: RegistryClientOptions = {},
    options: ImageSubscriberOptions = {},
  ) => {
    const c = new RegistryClient(client);
    clients.push(c);
    return new ImageSubscriber(c, options);
  };
  const proxy = async (
    options: Omit<Parameters<typeof startRegistryProxy>[0], 'target'> = {},
  ) => {
    const p = await startRegistryProxy({ target: registry.url, ...options });
    proxies.push(p);
    return p;
  };
  const run = async (s: ImageSubscriber, subscription: ImageSubscription) =>
    s.discover(subscription, await s.probe(subscription));
  const tagsOf = async (s: ImageSubscriber, subscription: ImageSubscription) =>
    (await run(s, subscription)).listed.map(i => i.tag);

  beforeAll(async () => {
    registry = await startTestRegistry();
    const created: Record<string, string> = {
      '1.0.0': '2026-01-01T00:00:00Z',
      '1.3': '2026-01-02T00:00:00Z',
      '1.2.0': '2026-01-03T00:00:00Z',
      '1.1.0': '2026-01-05T00:00:00Z',
      '2.0.0': '2026-01-08T00:00:00Z',
      '2.0.0-rc.1': '2026-01-10T00:00:00Z',
      'sha-0a1b2c': '2026-01-15T00:00:00Z',
      latest: '2026-01-19T00:00:00Z',
    };
    app = await registry.pushTags('app', Object.keys(created), tag => ({
      created: created[tag],
    }));

    const platforms = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ];
    for (const tag of ['1.0.0', '2.0.0']) {
      const index = await registry.pushIndex('multi', tag, platforms, {
        created: `2026-02-0${tag[0]}T00:00:00Z`,
      });
      multi[`${tag} index`] = index.digest;
      multi[`${tag} amd64`] = index.platforms['linux/amd64'];
      multi[`${tag} arm64`] = index.platforms['linux/arm64/v8'];
    }
    multi['2.5.0 arm64'] = (
      await registry.pushImage('multi', '2.5.0', { platform: platforms[1] })
    ).digest;
    multi['3.0.0 amd64'] = (
      await registry.pushImage('multi', '3.0.0', {
        platform: platforms[0],
        docker: true,
      })
    ).digest;
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await Promise.all(proxies.map(p => p.close()));
    await registry?.close();
  });

  describe('strategies', () => {
    it('SemVer: highest versions first, with constraint, strictSemvers and discoveryLimit', async () => {
      const s = subscriber();
      const repoURL = `${registry.host}/app`;
      const found = await run(s, sub(repoURL));
      // freight takes the highest, with its digest; the rest is listed by tag alone
      expect(found.latest).toEqual({
        repoURL,
        tag: '2.0.0',
        digest: app['2.0.0'].digest,
      });
      expect(found.listed).toEqual([
        { tag: '2.0.0', digest: app['2.0.0'].digest },
        ...['2.0.0-rc.1', '1.2.0', '1.1.0', '1.0.0'].map(tag => ({ tag })),
      ]);
      expect(
        (await run(s, sub(repoURL, { constraint: '^1.0.0' }))).latest,
      ).toEqual({
        repoURL,
        tag: '1.2.0',
        digest: app['1.2.0'].digest,
      });
      expect(await tagsOf(s, sub(repoURL, { constraint: '^1.0.0' }))).toEqual([
        '1.2.0',
        '1.1.0',
        '1.0.0',
      ]);
      expect(
        await tagsOf(
          s,
          sub(repoURL, { constraint: '^1.0.0', strictSemvers: false }),
        ),
      ).toEqual(['1.3', '1.2.0', '1.1.0', '1.0.0']);
      expect(await tagsOf(s, sub(repoURL, { discoveryLimit: 2 }))).toEqual([
        '2.0.0',
        '2.0.0-rc.1',
      ]);
    });

    it('Lexical: reverse order of tag names', async () => {
      expect(
        await tagsOf(
          subscriber(),
          sub(`${registry.host}/app`, {
            imageSelectionStrategy: 'Lexical',
            discoveryLimit: 4,
          }),
        ),
      ).toEqual(['sha-0a1b2c', 'latest', '2.0.0-rc.1', '2.0.0']);
    });

    it('NewestBuild: by the image config’s build time, with createdAt', async () => {
      const { latest, listed: images } = await run(
        subscriber(),
        sub(`${registry.host}/app`, {
          imageSelectionStrategy: 'NewestBuild',
          discoveryLimit: 5,
        }),
      );
      expect(images.map(i => [i.tag, i.createdAt])).toEqual([
        ['latest', '2026-01-19T00:00:00.000Z'],
        ['sha-0a1b2c', '2026-01-15T00:00:00.000Z'],
        ['2.0.0-rc.1', '2026-01-10T00:00:00.000Z'],
        ['2.0.0', '2026-01-08T00:00:00.000Z'],
        ['1.1.0', '2026-01-05T00:00:00.000Z'],
      ]);
      expect(images[0].digest).toBe(app.latest.digest);
      expect(latest).toEqual({
        repoURL: `${registry.host}/app`,
        tag: 'latest',
        digest: app.latest.digest,
        createdAt: '2026-01-19T00:00:00.000Z',
      });
    });

    it('allow and ignore regexes filter tags before any strategy', async () => {
      const s = subscriber();
      const repoURL = `${registry.host}/app`;
      expect(
        await tagsOf(
          s,
          sub(repoURL, {
            imageSelectionStrategy: 'Lexical',
            ignoreTagsRegexes: ['^(latest|sha-)', '-rc'],
          }),
        ),
      ).toEqual(['2.0.0', '1.3', '1.2.0', '1.1.0', '1.0.0']);
      expect(
        await tagsOf(
          s,
          sub(repoURL, {
            allowTagsRegexes: ['^1\\.'],
            ignoreTagsRegexes: ['^1\\.2'],
          }),
        ),
      ).toEqual(['1.1.0', '1.0.0']);
      expect(
        await tagsOf(
          s,
          sub(repoURL, {
            imageSelectionStrategy: 'NewestBuild',
            allowTagsRegexes: ['^sha-'],
          }),
        ),
      ).toEqual(['sha-0a1b2c']);
    });
  });

  describe('platforms in a multi-arch index', () => {
    it('selects the platform’s image, skipping tags that have none, linux/amd64 when none is set', async () => {
      const s = subscriber();
      const repoURL = `${registry.host}/multi`;
      const latest = async (over: Partial<ImageSubscription>) => {
        const found = (await run(s, sub(repoURL, over))).latest;
        return found && [found.tag, found.digest];
      };
      expect(await latest({ platform: 'linux/arm64' })).toEqual([
        '2.5.0',
        multi['2.5.0 arm64'],
      ]);
      expect(
        await latest({ platform: 'linux/arm64', constraint: '<2.5.0' }),
      ).toEqual(['2.0.0', multi['2.0.0 arm64']]);
      expect(
        await latest({ platform: 'linux/arm64', constraint: '<2.0.0' }),
      ).toEqual(['1.0.0', multi['1.0.0 arm64']]);
      expect(await latest({ platform: 'linux/amd64' })).toEqual([
        '3.0.0',
        multi['3.0.0 amd64'],
      ]);
      // 2.5.0 has no linux/amd64 image: passed over
      expect(
        await latest({ platform: 'linux/amd64', constraint: '<3.0.0' }),
      ).toEqual(['2.0.0', multi['2.0.0 amd64']]);
      expect(
        await latest({ platform: 'linux/amd64', constraint: '<2.0.0' }),
      ).toEqual(['1.0.0', multi['1.0.0 amd64']]);
      // no platform: an index resolves to linux/amd64; a single image is taken as it is
      expect(await latest({})).toEqual(['3.0.0', multi['3.0.0 amd64']]);
      expect(await latest({ constraint: '<3.0.0' })).toEqual([
        '2.5.0',
        multi['2.5.0 arm64'],
      ]);
      expect(await latest({ constraint: '<2.5.0' })).toEqual([
        '2.0.0',
        multi['2.0.0 amd64'],
      ]);
      expect(
        await latest({ platform: 'linux/s390x', constraint: '<2.5.0' }),
      ).toBeUndefined();
    });

    it('lists tags best first, without those found to lack the platform; tags below the latest are not looked at', async () => {
      const s = subscriber();
      const repoURL = `${registry.host}/multi`;
      const listed = async (over: Partial<ImageSubscription>) =>
        (await run(s, sub(repoURL, over))).listed;
      // 3.0.0 (amd64 only) was looked at and passed over; 2.5.0 and 2.0.0 were looked at together
      expect(await listed({ platform: 'linux/arm64' })).toEqual([
        { tag: '2.5.0', digest: multi['2.5.0 arm64'] },
        { tag: '2.0.0', digest: multi['2.0.0 arm64'] },
        { tag: '1.0.0' },
      ]);
      expect(
        await listed({ platform: 'linux/arm64', discoveryLimit: 2 }),
      ).toEqual([
        { tag: '2.5.0', digest: multi['2.5.0 arm64'] },
        { tag: '2.0.0', digest: multi['2.0.0 arm64'] },
      ]);
      // 3.0.0 has an amd64 image: nothing below it is looked at
      expect(await listed({ platform: 'linux/amd64' })).toEqual([
        { tag: '3.0.0', digest: multi['3.0.0 amd64'] },
        { tag: '2.5.0' },
        { tag: '2.0.0' },
        { tag: '1.0.0' },
      ]);
    });

    it('NewestBuild reads the build time of the platform’s image', async () => {
      const { listed: images } = await run(
        subscriber(),
        sub(`${registry.host}/multi`, {
          imageSelectionStrategy: 'NewestBuild',
          platform: 'linux/arm64',
        }),
      );
      expect(images.map(i => i.tag)).toEqual(['2.5.0', '2.0.0', '1.0.0']);
      expect(images[1]).toMatchObject({
        digest: multi['2.0.0 arm64'],
        createdAt: '2026-02-02T00:00:00.000Z',
      });
    });
  });

  describe('mutable tags and probe hashes', () => {
    it('Digest follows a tag re-pushed with new content: new digest, new probe hash', async () => {
      const s = subscriber();
      const subscription = sub(`${registry.host}/mutable`, {
        imageSelectionStrategy: 'Digest',
        constraint: 'stable',
      });
      const first = await registry.pushImage('mutable', 'stable', {
        salt: 'first',
      });
      const p1 = await s.probe(subscription);
      expect(await s.discover(subscription, p1)).toEqual({
        latest: {
          repoURL: subscription.repoURL,
          tag: 'stable',
          digest: first.digest,
        },
        listed: [{ tag: 'stable', digest: first.digest }],
      });
      expect((await s.probe(subscription)).hash).toBe(p1.hash);

      const second = await registry.pushImage('mutable', 'stable', {
        salt: 'second',
      });
      expect(second.digest).not.toBe(first.digest);
      const p2 = await s.probe(subscription);
      expect(p2.hash).not.toBe(p1.hash);
      expect((await s.discover(subscription, p2)).latest).toEqual({
        repoURL: subscription.repoURL,
        tag: 'stable',
        digest: second.digest,
      });
    });

    it('Digest on a multi-arch tag gives the platform’s image; a missing tag selects nothing; a missing repository is an error', async () => {
      const s = subscriber();
      expect(
        (
          await run(
            s,
            sub(`${registry.host}/multi`, {
              imageSelectionStrategy: 'Digest',
              constraint: '2.0.0',
              platform: 'linux/arm64',
            }),
          )
        ).latest,
      ).toEqual({
        repoURL: `${registry.host}/multi`,
        tag: '2.0.0',
        digest: multi['2.0.0 arm64'],
      });
      expect(
        await run(
          s,
          sub(`${registry.host}/app`, {
            imageSelectionStrategy: 'Digest',
            constraint: 'nightly',
          }),
        ),
      ).toEqual({ latest: undefined, listed: [] });
      await expect(
        s.probe(
          sub(`${registry.host}/acme/nope`, {
            imageSelectionStrategy: 'Digest',
            constraint: 'stable',
          }),
        ),
      ).rejects.toThrow(`repository acme/nope not found on ${registry.host}`);
    });

    it('SemVer notices a version tag re-pushed with new content (unless cacheByTag says tags never move)', async () => {
      const s = subscriber();
      const cached = subscriber({}, { cacheByTag: true });
      const subscription = sub(`${registry.host}/repushed`);
      await registry.pushImage('repushed', '1.0.0', { salt: 'first' });
      const [before, beforeCached] = [
        await s.probe(subscription),
        await cached.probe(subscription),
      ];
      const again = await registry.pushImage('repushed', '1.0.0', {
        salt: 'second',
      });
      const after = await s.probe(subscription);
      expect(after.hash).not.toBe(before.hash);
      expect((await s.discover(subscription, after)).latest).toEqual({
        repoURL: subscription.repoURL,
        tag: '1.0.0',
        digest: again.digest,
      });
      expect((await cached.probe(subscription)).hash).toBe(beforeCached.hash);
    });

    it("a subscription's own cacheByTag (Kargo's field) caches its tags only; another subscription to the same repository still notices a re-push", async () => {
      const s = subscriber();
      const plain = sub(`${registry.host}/repushed-per-sub`);
      const cached = sub(`${registry.host}/repushed-per-sub`, { cacheByTag: true });
      await registry.pushImage('repushed-per-sub', '1.0.0', { salt: 'first' });
      const [before, beforeCached] = [await s.probe(plain), await s.probe(cached)];
      const again = await registry.pushImage('repushed-per-sub', '1.0.0', { salt: 'second' });
      const after = await s.probe(plain);
      expect(after.hash).not.toBe(before.hash);
      expect((await s.discover(plain, after)).latest?.digest).toBe(again.digest);
      const afterCached = await s.probe(cached);
      expect(afterCached.hash).toBe(beforeCached.hash);
      expect((await s.discover(cached, afterCached)).latest?.digest).not.toBe(again.digest);
    });

    it('SemVer: a tag below the latest re-pushed leaves the probe hash alone; a new tag in the listing changes it', async () => {
      const s = subscriber();
      const subscription = sub(`${registry.host}/below`);
      await registry.pushImage('below', '1.0.0', { salt: 'first' });
      const top = await registry.pushImage('below', '2.0.0');
      const before = await s.probe(subscription);
      await registry.pushImage('below', '1.0.0', { salt: 'second' });
      expect((await s.probe(subscription)).hash).toBe(before.hash);
      await registry.pushImage('below', '1.5.0');
      const after = await s.probe(subscription);
      expect(after.hash).not.toBe(before.hash);
      expect(await s.discover(subscription, after)).toEqual({
        latest: {
          repoURL: subscription.repoURL,
          tag: '2.0.0',
          digest: top.digest,
        },
        listed: [
          { tag: '2.0.0', digest: top.digest },
          { tag: '1.5.0' },
          { tag: '1.0.0' },
        ],
      });
    });

    it('with cacheByTag, tags resolved before are listed with their digest, at no cost', async () => {
      const cached = subscriber({}, { cacheByTag: true });
      const subscription = sub(`${registry.host}/remembered`);
      const one = await registry.pushImage('remembered', '1.0.0');
      await cached.probe(subscription);
      const two = await registry.pushImage('remembered', '1.1.0');
      expect(
        (await cached.discover(subscription, await cached.probe(subscription)))
          .listed,
      ).toEqual([
        { tag: '1.1.0', digest: two.digest },
        { tag: '1.0.0', digest: one.digest },
      ]);
    });

    it('an unchanged registry gives an identical probe hash, for every strategy', async () => {
      const s = subscriber();
      for (const over of [
        {},
        { imageSelectionStrategy: 'Lexical' as const },
        { imageSelectionStrategy: 'NewestBuild' as const },
        { imageSelectionStrategy: 'Digest' as const, constraint: 'latest' },
      ]) {
        const subscription = sub(`${registry.host}/app`, over);
        const [a, b] = [
          await s.probe(subscription),
          await s.probe(subscription),
        ];
        expect(b.hash).toBe(a.hash);
        // and a fresh subscriber (a restarted backend) computes the same hash
        expect((await subscriber().probe(subscription)).hash).toBe(a.hash);
      }
    });
  });

  describe('requests sent (counted by a proxy in front of the registry)', () => {
    let p: RegistryProxy;
    const counts = () => ({
      tags: p.count('tags', 'GET'),
      headByTag: p.count('manifest-by-tag', 'HEAD'),
      getByTag: p.count('manifest-by-tag', 'GET'),
      getByDigest: p.count('manifest-by-digest', 'GET'),
      blobs: p.count('blob', 'GET'),
    });
    const measure = async (
      s: ImageSubscriber,
      subscription: ImageSubscription,
    ) => {
      p.reset();
      const probe = await s.probe(subscription);
      const probeCounts = counts();
      p.reset();
      await s.discover(subscription, probe);
      expect(p.requests).toHaveLength(0); // discover() reuses what the probe found
      return probeCounts;
    };

    beforeAll(async () => {
      p = await proxy({ maxPageSize: 100 });
    });

    it('NewestBuild: manifests and configs are read once per digest; later runs cost the tag list and HEADs', async () => {
      const s = subscriber();
      const subscription = sub(`${p.host}/app`, {
        imageSelectionStrategy: 'NewestBuild',
        discoveryLimit: 3,
      });
      expect(await measure(s, subscription)).toEqual({
        tags: 1,
        headByTag: 8,
        getByTag: 0,
        getByDigest: 8,
        blobs: 8,
      });
      expect(await measure(s, subscription)).toEqual({
        tags: 1,
        headByTag: 8,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
    });

    it('SemVer and Lexical: the tag list and one HEAD, for the latest tag only; with cacheByTag an unchanged repository costs the tag list', async () => {
      const s = subscriber();
      expect(await measure(s, sub(`${p.host}/app`))).toEqual({
        tags: 1,
        headByTag: 1,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
      expect(
        await measure(
          s,
          sub(`${p.host}/app`, {
            imageSelectionStrategy: 'Lexical',
            discoveryLimit: 3,
          }),
        ),
      ).toEqual({
        tags: 1,
        headByTag: 1,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
      const cached = subscriber({}, { cacheByTag: true });
      expect(await measure(cached, sub(`${p.host}/app`))).toEqual({
        tags: 1,
        headByTag: 1,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
      expect(await measure(cached, sub(`${p.host}/app`))).toEqual({
        tags: 1,
        headByTag: 0,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
    });

    it('platforms: an index is read once per digest; a single image is checked through its config once per digest', async () => {
      const s = subscriber();
      const subscription = sub(`${p.host}/multi`, { platform: 'linux/arm64' });
      // 3.0.0 first: a single amd64 image, checked through manifest + config, passed over; then
      // 2.5.0 (checked the same way: arm64) and 2.0.0 (an index, read) together
      expect(await measure(s, subscription)).toEqual({
        tags: 1,
        headByTag: 3,
        getByTag: 0,
        getByDigest: 3,
        blobs: 2,
      });
      expect(await measure(s, subscription)).toEqual({
        tags: 1,
        headByTag: 3,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
    });

    it('Digest: one HEAD, no tag list', async () => {
      const s = subscriber();
      expect(
        await measure(
          s,
          sub(`${p.host}/app`, {
            imageSelectionStrategy: 'Digest',
            constraint: 'latest',
          }),
        ),
      ).toEqual({
        tags: 0,
        headByTag: 1,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
    });

    it('many tags: the tag list is followed across pages', async () => {
      const first = await registry.pushImage('many', '0.0.1');
      await registry.tagMany(
        'many',
        first.digest,
        Array.from(
          { length: 230 },
          (_, i) => `3.${Math.floor(i / 10)}.${i % 10}`,
        ),
      );
      const s = subscriber({ tagPageSize: 100 });
      const subscription = sub(`${p.host}/many`, { discoveryLimit: 3 });
      expect(await tagsOf(s, subscription)).toEqual([
        '3.22.9',
        '3.22.8',
        '3.22.7',
      ]);
      expect(await measure(s, subscription)).toEqual({
        tags: 3,
        headByTag: 1,
        getByTag: 0,
        getByDigest: 0,
        blobs: 0,
      });
    });
  });

  describe('token auth and faults', () => {
    it('discovers through a bearer-token registry with credentials, and fails without them in words a user can act on', async () => {
      const p = await proxy({
        auth: { username: 'puller', password: PASSWORD },
      });
      const subscription = sub(`${p.host}/app`, { constraint: '^1.0.0' });
      const s = subscriber({
        credentials: host =>
          host === p.host
            ? { username: 'puller', password: PASSWORD }
            : undefined,
      });
      expect(await tagsOf(s, subscription)).toEqual([
        '1.2.0',
        '1.1.0',
        '1.0.0',
      ]);
      expect(p.count('token')).toBe(1);

      const error = await subscriber()
        .probe(subscription)
        .catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^registry answered 401 for ${p.host}/app: check the credentials for ${p.host}`,
        ),
      );
      const wrong = await subscriber({
        credentials: () => ({ username: 'puller', password: 'not-it' }),
      })
        .probe(subscription)
        .catch((e: Error) => e);
      expect((wrong as Error).message).toBe(
        `registry answered 401 for ${p.host}/app: check the credentials for ${p.host}`,
      );
      for (const e of [error, wrong])
        expect(`${(e as Error).message} ${(e as Error).stack}`).not.toContain(
          PASSWORD,
        );
    });

    it('500, timeouts and malformed JSON reach the caller as messages naming the registry', async () => {
      const p = await proxy();
      const subscription = sub(`${p.host}/app`);
      p.setFault('500', /manifests/);
      await expect(subscriber().probe(subscription)).rejects.toThrow(
        `registry ${p.host} answered 500 for app/manifests/`,
      );
      p.setFault('malformed');
      await expect(subscriber().probe(subscription)).rejects.toThrow(
        `registry ${p.host} sent malformed JSON for app/tags/list`,
      );
      p.setFault('hang');
      await expect(
        subscriber({ timeoutMs: 250 }).probe(subscription),
      ).rejects.toThrow(
        `registry ${p.host} did not answer within 250ms for app/tags/list`,
      );
      p.setFault(undefined);
      expect((await subscriber().probe(subscription)).hash).toMatch(
        /^[0-9a-f]{64}$/,
      );
    });
  });
});
