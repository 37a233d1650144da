import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Knex } from 'knex';
import { z } from 'zod';
import type { CreateFreightRequest } from '@stagecoach/plugin-stagecoach-common';
import { StagecoachEngine } from '.';
import { builtinKinds } from '../discovery/kinds';
import type { SubscriptionKind } from '../discovery/SubscriptionKind';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { createTestDatabases } from '../__testUtils__/databases';
import { silentLogger } from '../util/types';

/*
 * A kind of source the engine was not built with, registered beside the built-in ones: what
 * "adding a kind is one module and one registration" means, end to end. Its versions live
 * in memory; nothing else in the engine names it.
 */

interface Bundle {
  repoURL: string;
  version: string;
}

const versions = new Map<string, string[]>([['bundles://shop', ['7', '6']]]);

const bundleKind: SubscriptionKind<
  { repoURL: string },
  Bundle,
  { repoURL: string; version: string }
> = {
  name: 'bundle',
  schema: z.object({ repoURL: z.string().startsWith('bundles://') }).strict(),
  field: 'bundles',
  subscriber: () => ({
    probe: async sub => ({ hash: (versions.get(sub.repoURL) ?? []).join(',') }),
    discover: async sub => {
      const listed = (versions.get(sub.repoURL) ?? []).map(version => ({
        repoURL: sub.repoURL,
        version,
      }));
      return { latest: listed[0], listed };
    },
  }),
  describe: sub => sub.repoURL,
  describeNoMatch: sub => `${sub.repoURL} has no bundles`,
  reference: b => `${b.repoURL}:${b.version}`,
  expressionFunctions: bundles => ({
    bundleFrom: repoURL => bundles.find(b => b.repoURL === repoURL),
  }),
  label: b => ({
    label: `${b.repoURL.slice('bundles://'.length)}:${b.version}`,
    detail: `Bundle ${b.repoURL} ${b.version}`,
  }),
  listedLabel: e => String(e.version),
  matchesChange: (change, sub) =>
    change.kind === 'bundle' && !!change.repoURLs?.includes(sub.repoURL),
  manual: {
    requestSchema: z
      .object({ repoURL: z.string(), version: z.string() })
      .strict(),
    requestShape: '[{"repoURL", "version"}]',
    describe: b => `bundle ${b.repoURL} version ${b.version}`,
    source: b => b.repoURL,
    belongs: (b, sub) => b.repoURL === sub.repoURL,
    match: (b, listed) => ({
      entries: listed.filter(e => e.version === b.version),
    }),
    isComplete: () => true,
  },
};

const warehouse = (subscription: string, criteria = '') => `
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: shop
  namespace: demo
spec:
  ${criteria}
  subscriptions:
    - ${subscription}
`;

describe('a subscription kind registered beside the built-in ones', () => {
  const databases = createTestDatabases();
  let knex: Knex;
  let workDir: string;
  let engine: StagecoachEngine;

  beforeAll(async () => {
    knex = await databases.init('SQLITE_3');
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-kinds-'));
    engine = await StagecoachEngine.create({
      knex,
      logger: silentLogger,
      workDir,
      kinds: [...builtinKinds, bundleKind],
    });
  });
  afterAll(async () => {
    await engine.close();
    await knex.destroy();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('is checked in Warehouse manifests by its own schema, and named among the others', async () => {
    const problems = await engine.projects
      .applyManifests('demo', warehouse('bundle: { repoURL: "s3://shop" }'))
      .then(
        () => [],
        e => (e as ManifestValidationError).problems,
      );
    expect(problems).toEqual([
      expect.objectContaining({ path: 'spec.subscriptions[0].bundle.repoURL' }),
    ]);
    await expect(
      engine.projects.applyManifests('demo', warehouse('{}')),
    ).rejects.toThrow('must have exactly one of git, image, chart or bundle');
  });

  it('is discovered into freight that carries, labels, identifies and offers its artifacts', async () => {
    await engine.projects.applyManifests(
      'demo',
      warehouse(
        'bundle: { repoURL: "bundles://shop" }',
        `freightCreationCriteria: { expression: 'bundleFrom("bundles://shop").version == "7"' }`,
      ),
    );
    const [found] = await engine.workers.discovery.runDue();
    expect(found.error).toBeUndefined();
    const [freight] = await engine.freight.list('demo');
    expect(freight).toMatchObject({
      id: found.createdFreightId,
      commits: [],
      images: [],
      charts: [],
      bundles: [{ repoURL: 'bundles://shop', version: '7' }],
      artifactLabels: [
        { kind: 'bundle', label: 'shop:7', detail: 'Bundle bundles://shop 7' },
      ],
    });
    expect(
      (await engine.warehouses.get('demo', 'shop')).status.discovered,
    ).toEqual([
      {
        bundle: {
          repoURL: 'bundles://shop',
          artifacts: [
            { repoURL: 'bundles://shop', version: '7' },
            { repoURL: 'bundles://shop', version: '6' },
          ],
        },
      },
    ]);

    // assembled by hand from what was listed
    const older = await engine.freight.create('demo', {
      origin: { kind: 'Warehouse', name: 'shop' },
      bundles: [{ repoURL: 'bundles://shop', version: '6' }],
    } as CreateFreightRequest);
    expect(older.created).toBe(true);
    expect(older.freight.artifactLabels).toEqual([
      { kind: 'bundle', label: 'shop:6', detail: 'Bundle bundles://shop 6' },
    ]);
    await expect(
      engine.freight.create('demo', {
        origin: { kind: 'Warehouse', name: 'shop' },
        bundles: [{ repoURL: 'bundles://shop', version: '5' }],
      } as CreateFreightRequest),
    ).rejects.toThrow(
      'bundles[0]: bundle bundles://shop version 5 has not been discovered by warehouse "shop": it has discovered 7, 6 for subscriptions[0] (bundle bundles://shop)',
    );
  });

  it('says which warehouses a change of its sources concerns', async () => {
    expect(
      await engine.warehouses.refreshChanged({
        kind: 'bundle',
        repoURLs: ['bundles://shop'],
      }),
    ).toEqual(['demo/shop']);
    expect(
      await engine.warehouses.refreshChanged({
        kind: 'git',
        repoURLs: ['bundles://shop'],
      }),
    ).toEqual([]);
  });
});
