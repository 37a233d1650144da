import fs from 'node:fs/promises';
import path from 'node:path';
import { Knex } from 'knex';
import { StagecoachEngine } from '../app';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { startTestRegistry, TestRegistry } from '../__testUtils__/registry';
import { staticServer } from '../__testUtils__/staticServer';
import { silentLogger } from '../util/types';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';

jest.setTimeout(120_000);

const helmIndex = (versions: string[]) =>
  `apiVersion: v1\nentries:\n  web:\n${versions.map(v => `    - {name: web, version: ${v}}\n`).join('')}`;

describe('discovery of git tags, images and charts together (real Git server, real OCI registry, static Helm repository, all on loopback)', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;
    let registry: TestRegistry;
    let charts: Awaited<ReturnType<typeof staticServer>>;

    beforeAll(async () => {
      git = await createGitFixture();
      registry = await startTestRegistry();
      await fs.mkdir(path.join(git.root, 'helm'));
      await fs.writeFile(path.join(git.root, 'helm/index.yaml'), helmIndex(['0.9.0', '1.0.0', '1.1.0']));
      charts = await staticServer(path.join(git.root, 'helm'));
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({ knex, logger: silentLogger, egress: LOOPBACK_ALLOWED, workDir: `${git.root}/work` });

      await registry.pushTags('acme/api', ['v1.0.0', 'v1.1.0', 'v2.0.0-rc.1', 'latest']);
      await registry.pushHelmChart('charts/worker', 'worker', '0.1.0');
      await registry.pushHelmChart('charts/worker', 'worker', '0.2.0+build.7');
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      charts.close();
      await registry.close();
      await git.close();
    });

    const manifests = () => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: everything, namespace: mixed}
spec:
  interval: 1h
  subscriptions:
    - git: {repoURL: ${git.appURL}, commitSelectionStrategy: SemVer}
    - image: {repoURL: ${registry.host}/acme/api, constraint: ^1.0.0}
    - chart: {repoURL: ${charts.url}, name: web}
    - chart: {repoURL: oci://${registry.host}/charts/worker}
`;

    it('makes one freight of the newest artifact of each subscription', async () => {
      await engine.projects.applyManifests('mixed', manifests());
      const [result] = await engine.workers.discovery.runDue();
      expect(result.error).toBeUndefined();
      const [freight] = await engine.freight.list('mixed');
      expect(freight.commits.map(c => c.tag)).toEqual(['v1.2.0']);
      expect(freight.images).toEqual([
        expect.objectContaining({ repoURL: `${registry.host}/acme/api`, tag: 'v1.1.0', digest: expect.stringMatching(/^sha256:/) }),
      ]);
      expect(freight.charts).toEqual([
        { repoURL: charts.url, name: 'web', version: '1.1.0' },
        { repoURL: `oci://${registry.host}/charts/worker`, version: '0.2.0+build.7' },
      ]);
      const status = (await engine.warehouses.get('mixed', 'everything')).status;
      expect(status.lastError).toBeUndefined();
      expect(status.discovered).toHaveLength(4);
      // the image the freight uses has its digest; the tags below it are listed by name
      expect(status.discovered![1]).toEqual({
        image: {
          repoURL: `${registry.host}/acme/api`,
          artifacts: [{ tag: 'v1.1.0', digest: freight.images[0].digest }, { tag: 'v1.0.0' }],
        },
      });
    });

    it('a tag pushed again with new content makes new freight', async () => {
      const [before] = await engine.freight.list('mixed');
      await registry.pushImage('acme/api', 'v1.1.0', { salt: 'rebuilt' });
      await engine.warehouses.refresh('mixed', 'everything');
      const [result] = await engine.workers.discovery.runDue();
      expect(result.createdFreightId).toBeDefined();
      const [after] = await engine.freight.list('mixed');
      expect(after.images[0].tag).toBe('v1.1.0');
      expect(after.images[0].digest).not.toBe(before.images[0].digest);
      expect(after.id).not.toBe(before.id);
    });

    it('a registry that cannot be reached is reported on the warehouse, retried with backoff, and loses no freight', async () => {
      const count = (await engine.freight.list('mixed')).length;
      await registry.close();
      await engine.warehouses.refresh('mixed', 'everything');
      const [result] = await engine.workers.discovery.runDue();
      expect(result.error).toMatch(/discovery failed \(attempt 1, next try in 10s\): .*127\.0\.0\.1/);
      const status = (await engine.warehouses.get('mixed', 'everything')).status;
      expect(status.lastError).toBe(result.error);
      expect(Date.parse(status.nextDiscoveryAt!) - Date.parse(status.lastDiscoveryAt!)).toBe(10_000);
      expect(await engine.freight.list('mixed')).toHaveLength(count);
    });
  });
});
