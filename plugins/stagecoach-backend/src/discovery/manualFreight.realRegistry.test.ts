import path from 'node:path';
import { Knex } from 'knex';
import { InputError, ServiceUnavailableError } from '@backstage/errors';
import { git as runGit } from '@stagecoach/git-server';
import { StagecoachEngine } from '../app';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { PushedImage, startTestRegistry, TestRegistry } from '../__testUtils__/registry';
import { silentLogger } from '../util/types';
import { builtinSubscriptionKinds } from './kinds';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';

jest.setTimeout(120_000);

describe('freight assembled by hand with images, digests resolved through a real docker-registry on loopback', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;
    let registry: TestRegistry;
    let api: Record<string, PushedImage>;
    let arm: string;
    let apiRepo: string;

    const origin = (name: string) => ({ kind: 'Warehouse' as const, name });
    const sha = async (tag: string) =>
      (await runGit(path.join(git.root, 'repos', 'app.git'), 'rev-parse', `${tag}^{commit}`)).trim();

    beforeAll(async () => {
      git = await createGitFixture();
      registry = await startTestRegistry();
      apiRepo = `${registry.host}/acme/api`;
      api = await registry.pushTags('acme/api', ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v2.0.0'], tag => ({ salt: tag }));
      const platforms = [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ];
      const old = await registry.pushIndex('acme/multi', '1.0.0', platforms, { salt: '1.0.0' });
      await registry.pushIndex('acme/multi', '2.0.0', platforms, { salt: '2.0.0' });
      arm = old.platforms['linux/arm64/v8'];

      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({ knex, logger: silentLogger, egress: LOOPBACK_ALLOWED, workDir: `${git.root}/work` });
      await engine.projects.applyManifests(
        'images',
        `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: mixed, namespace: images}
spec:
  freightCreationPolicy: Manual
  subscriptions:
    - git: {repoURL: ${git.appURL}, commitSelectionStrategy: SemVer}
    - image: {repoURL: ${apiRepo}, constraint: ^1.0.0}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: auto, namespace: images}
spec:
  subscriptions:
    - image: {repoURL: ${apiRepo}, constraint: ^1.0.0}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: arm, namespace: images}
spec:
  freightCreationPolicy: Manual
  subscriptions:
    - image: {repoURL: ${registry.host}/acme/multi, platform: linux/arm64/v8}
`,
      );
      const results = await engine.workers.discovery.runDue();
      const failed = results.filter(r => r.error);
      if (failed.length > 0) throw new Error(`discovery failed: ${failed.map(r => r.error).join('; ')}`);
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await registry.close();
      await git.close();
    });

    it('a Manual warehouse lists the tags, only the newest with its digest, and makes no freight', async () => {
      const status = (await engine.warehouses.get('images', 'mixed')).status;
      expect(status.discovered![1]).toEqual({
        image: {
          repoURL: apiRepo,
          artifacts: [{ tag: 'v1.2.0', digest: api['v1.2.0'].digest }, { tag: 'v1.1.0' }, { tag: 'v1.0.0' }],
        },
      });
      expect(await engine.freight.list('images', { origin: 'mixed' })).toEqual([]);
    });

    it('assembles freight from an older tag, its digest looked up in the registry, artifacts in any order', async () => {
      const { freight, created } = await engine.freight.create('images', {
        origin: origin('mixed'),
        images: [{ repoURL: apiRepo, tag: 'v1.0.0' }],
        commits: [{ repoURL: git.appURL, tag: 'v1.1.0' }],
      });
      expect(created).toBe(true);
      const commit = { repoURL: git.appURL, id: await sha('v1.1.0'), tag: 'v1.1.0' };
      const image = { repoURL: apiRepo, tag: 'v1.0.0', digest: api['v1.0.0'].digest };
      expect(freight.images).toEqual([image]);
      expect(freight.commits).toEqual([commit]);
      expect(freight.id).toBe(builtinSubscriptionKinds.freightId('mixed', { commits: [commit], images: [image], charts: [] }));

      // the same again, now with the digest: the same freight
      const again = await engine.freight.create('images', {
        origin: origin('mixed'),
        commits: [{ repoURL: git.appURL, tag: 'v1.1.0' }],
        images: [{ repoURL: apiRepo, tag: 'v1.0.0', digest: api['v1.0.0'].digest }],
      });
      expect(again).toMatchObject({ created: false, freight: { id: freight.id } });
    });

    it('checks a digest it is given, and needs the tag when the listing does not know the digest', async () => {
      const commits = [{ repoURL: git.appURL, tag: 'v1.1.0' }];
      await expect(
        engine.freight.create('images', {
          origin: origin('mixed'),
          commits,
          images: [{ repoURL: apiRepo, tag: 'v1.0.0', digest: api['v1.1.0'].digest }],
        }),
      ).rejects.toThrow(
        new RegExp(`images\\[0\\]: tag v1\\.0\\.0 of .* is ${api['v1.0.0'].digest} now, not ${api['v1.1.0'].digest}`),
      );
      await expect(
        engine.freight.create('images', {
          origin: origin('mixed'),
          commits,
          images: [{ repoURL: apiRepo, digest: api['v1.0.0'].digest }],
        }),
      ).rejects.toThrow(/has not been discovered .* \(the listing shows most tags without their digest: name the tag\)/);
      // the newest tag is listed with its digest: the digest alone names it
      const byDigest = await engine.freight.create('images', {
        origin: origin('mixed'),
        commits,
        images: [{ repoURL: apiRepo, digest: api['v1.2.0'].digest }],
      });
      expect(byDigest.freight.images).toEqual([{ repoURL: apiRepo, tag: 'v1.2.0', digest: api['v1.2.0'].digest }]);
      // v2.0.0 is in the registry, but outside the subscription's constraint
      await expect(
        engine.freight.create('images', { origin: origin('mixed'), commits, images: [{ repoURL: apiRepo, tag: 'v2.0.0' }] }),
      ).rejects.toThrow(/image .*:v2\.0\.0 has not been discovered by warehouse "mixed": it has discovered v1\.2\.0, v1\.1\.0, v1\.0\.0/);
    });

    it('gives the newest image the ID that automatic discovery gave it', async () => {
      const [discovered] = await engine.freight.list('images', { origin: 'auto' });
      const { freight, created } = await engine.freight.create('images', {
        origin: origin('auto'),
        images: [{ repoURL: apiRepo, tag: 'v1.2.0' }],
      });
      expect(created).toBe(false);
      expect(freight.id).toBe(discovered.id);
    });

    it("resolves a multi-platform tag to the subscription's platform", async () => {
      const { freight } = await engine.freight.create('images', {
        origin: origin('arm'),
        images: [{ repoURL: `${registry.host}/acme/multi`, tag: '1.0.0' }],
      });
      expect(freight.images).toEqual([{ repoURL: `${registry.host}/acme/multi`, tag: '1.0.0', digest: arm }]);
    });

    it('a listed tag that is gone from the registry is a 400 that says to refresh', async () => {
      const pushed = await registry.pushImage('acme/api', 'v1.0.1', { salt: 'soon deleted' });
      await engine.warehouses.refresh('images', 'mixed');
      await engine.workers.discovery.runDue();
      const res = await fetch(`${registry.url}/v2/acme/api/manifests/${pushed.digest}`, { method: 'DELETE' });
      expect(res.status).toBe(202);
      const attempt = engine.freight.create('images', {
        origin: origin('mixed'),
        commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }],
        images: [{ repoURL: apiRepo, tag: 'v1.0.1' }],
      });
      await expect(attempt).rejects.toThrow(InputError);
      await expect(attempt).rejects.toThrow(/images\[0\]: v1\.0\.1 of .* was discovered, but the source no longer has it/);
    });

    it('a registry that cannot be reached is a 503 with the reason, not a 500', async () => {
      await registry.close();
      const attempt = engine.freight.create('images', {
        origin: origin('mixed'),
        commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }],
        images: [{ repoURL: apiRepo, tag: 'v1.1.0' }],
      });
      await expect(attempt).rejects.toThrow(ServiceUnavailableError);
      await expect(attempt).rejects.toThrow(/images\[0\]: could not look up v1\.1\.0 of .*acme\/api: .*127\.0\.0\.1/);
    });
  });
});
