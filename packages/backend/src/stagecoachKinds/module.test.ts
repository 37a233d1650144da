import fs from 'node:fs/promises';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { z } from 'zod';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import {
  createSubscriptionKind,
  stagecoachSubscriptionKindsExtensionPoint,
} from '@stagecoach/plugin-stagecoach-node';
import stagecoachKindsModule from './module';
import {
  PROGRESS_TEST_TIMEOUT_MS,
  stagecoachApi,
  stagecoachFeatures,
  until,
} from '../__testUtils__/stagecoachTestBackend';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * The example kinds module through the real Stagecoach plugin (startTestBackend): a
 * Warehouse that subscribes to `releaseFeed` is accepted by the manifests API and refused
 * there with a bad config; a refresh reads a release feed served on loopback and makes
 * freight of its newest allowed version, which the API shows with its label; a promotion
 * step reads it through `releaseFrom`; freight is assembled by hand from what was listed.
 */

/** A release feed whose releases the test sets. */
interface Feed {
  url: string;
  releases: Array<{ version: string; publishedAt?: string }>;
  close(): Promise<void>;
}

async function startFeed(): Promise<Feed> {
  const server = http.createServer();
  const feed: Feed = {
    url: '',
    releases: [
      { version: '1.3.2', publishedAt: '2026-11-02T09:00:00Z' },
      { version: '2.0.0-rc.1' },
      { version: '1.4.0', publishedAt: '2026-11-30T10:00:00Z' },
      { version: 'nightly' },
      { version: '0.9.0' },
    ],
    close: () => new Promise(resolve => server.close(() => resolve())),
  };
  server.on('request', (req, res) => {
    if (req.url !== '/feeds/payments.json') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: 'payments', releases: feed.releases }));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  feed.url = `http://127.0.0.1:${
    (server.address() as AddressInfo).port
  }/feeds/payments.json`;
  return feed;
}

const warehouse = (subscription: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: payments, namespace: shop}
spec:
  subscriptions:
    - releaseFeed: ${subscription}
`;

const pipeline = (feedURL: string) => `${warehouse(
  `{repoURL: "${feedURL}", versionConstraint: ">=1.0.0 <3.0.0"}`,
)}---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: shop}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: payments}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: compose-output
          as: release
          config:
            version: \${{ releaseFrom("${feedURL}").version }}
`;

describe('the example kinds module (real Stagecoach plugin, loopback release feed)', () => {
  let root: string;
  let feed: Feed;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-kinds-module-'));
    feed = await startFeed();
    backend = await startTestBackend({
      features: stagecoachFeatures(
        path.join(root, 'work'),
        stagecoachKindsModule,
      ),
    });
  });
  afterAll(async () => {
    // the engine stops before the folder it works in goes
    await backend?.stop();
    await feed?.close();
    await fs.rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  const { api, apply, get } = stagecoachApi(() => backend.server, 'shop');

  it("refuses a bad config for the module's kind with a 400 naming the field", async () => {
    const res = await apply(
      warehouse(`{repoURL: 42, versionConstraint: "about 1.2", colour: red}`),
    );
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          resource: 'Warehouse/payments',
          path: 'spec.subscriptions[0].releaseFeed.repoURL',
        }),
        expect.objectContaining({
          resource: 'Warehouse/payments',
          path: 'spec.subscriptions[0].releaseFeed.versionConstraint',
          message: expect.stringContaining('"about" is not a comparator'),
        }),
      ]),
    );
  });

  it('discovers the newest allowed release into freight, which a promotion step reads through releaseFrom', async () => {
    const applied = await apply(pipeline(feed.url));
    expect(applied.body.problems).toBeUndefined();
    expect(applied.status).toBe(200);

    await api(
      request(backend.server).post(
        '/api/stagecoach/projects/shop/warehouses/payments/refresh',
      ),
    ).expect(202);
    const [freight] = await until(
      async (): Promise<Array<Record<string, any>>> =>
        (await get('/freight')).body.items ?? [],
      items => items.length > 0,
      'freight from discovery',
    );
    // the pre-release and the version that is none are passed over
    expect(freight).toMatchObject({
      commits: [],
      images: [],
      charts: [],
      releases: [
        {
          repoURL: feed.url,
          version: '1.4.0',
          publishedAt: '2026-11-30T10:00:00Z',
        },
      ],
      artifactLabels: [
        {
          kind: 'releaseFeed',
          label: 'payments:1.4.0',
          detail: `Release 1.4.0 of ${feed.url}, published 2026-11-30T10:00:00Z`,
        },
      ],
    });
    const status = (await get('/warehouses/payments')).body.status;
    expect(status.discovered).toEqual([
      {
        releaseFeed: {
          repoURL: feed.url,
          artifacts: [
            expect.objectContaining({ version: '1.4.0' }),
            expect.objectContaining({ version: '1.3.2' }),
          ],
        },
      },
    ]);

    const promoted = await api(
      request(backend.server).post(
        '/api/stagecoach/projects/shop/stages/dev/promotions',
      ),
    ).send({ freight: freight.alias });
    expect(promoted.status).toBe(202);
    const done = await until(
      async () => (await get(`/promotions/${promoted.body.id}`)).body,
      p => ['Succeeded', 'Failed', 'Errored', 'Aborted'].includes(p.phase),
      'the promotion',
    );
    expect(done.phase).toBe('Succeeded');
    expect(
      done.steps.find((s: { alias: string }) => s.alias === 'release'),
    ).toMatchObject({ status: 'Succeeded', outputs: { version: '1.4.0' } });
  });

  it('assembles freight by hand from a listed release, and names what was listed when asked for another', async () => {
    const created = await api(
      request(backend.server).post('/api/stagecoach/projects/shop/freight'),
    ).send({
      origin: { kind: 'Warehouse', name: 'payments' },
      releases: [{ repoURL: feed.url, version: '1.3.2' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.artifactLabels).toEqual([
      expect.objectContaining({ label: 'payments:1.3.2' }),
    ]);

    const missing = await api(
      request(backend.server).post('/api/stagecoach/projects/shop/freight'),
    ).send({
      origin: { kind: 'Warehouse', name: 'payments' },
      releases: [{ repoURL: feed.url, version: '0.9.0' }],
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain(
      `releases[0]: release 0.9.0 of ${feed.url} has not been discovered by warehouse "payments": it has discovered payments:1.4.0, payments:1.3.2`,
    );
  });
});

describe('a subscription kind that claims what another kind has', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-kinds-clash-'));
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  const moduleAdding = (
    moduleId: string,
    claims: { name: string; field: string; expressionFunction: string },
  ) =>
    createBackendModule({
      pluginId: 'stagecoach',
      moduleId,
      register(reg) {
        reg.registerInit({
          deps: { kinds: stagecoachSubscriptionKindsExtensionPoint },
          async init({ kinds }) {
            kinds.addKinds(
              createSubscriptionKind({
                ...claims,
                description: `the ${moduleId} feed`,
                schema: z.object({ repoURL: z.string() }),
                subscriber: () => ({
                  probe: async () => ({ hash: '' }),
                  discover: async () => ({ listed: [] }),
                }),
                reference: (a: { repoURL: string }) => a.repoURL,
                label: (a: { repoURL: string }) => ({
                  label: a.repoURL,
                  detail: a.repoURL,
                }),
                manual: {
                  requestSchema: z.object({ repoURL: z.string() }),
                  requestShape: '[{"repoURL"}]',
                  describe: r => r.repoURL,
                  matches: () => true,
                },
              }),
            );
          },
        });
      },
    });

  it("fails the backend's startup, naming the module and both kinds, when a built-in kind has the name", async () => {
    await expect(
      startTestBackend({
        features: stagecoachFeatures(
          path.join(root, 'builtin'),
          moduleAdding('acme-git', {
            name: 'git',
            field: 'gitCommits',
            expressionFunction: 'gitCommitFrom',
          }),
        ),
      }),
    ).rejects.toThrow(
      "Module 'acme-git' for plugin 'stagecoach' startup failed; caused by Error: cannot add the subscription kind " +
        '"git" (the acme-git feed): the built-in kind "git" already claims the name "git"',
    );
  });

  it("fails the backend's startup when a built-in kind has the freight field", async () => {
    await expect(
      startTestBackend({
        features: stagecoachFeatures(
          path.join(root, 'field'),
          moduleAdding('acme-images', {
            name: 'ociImage',
            field: 'images',
            expressionFunction: 'ociImageFrom',
          }),
        ),
      }),
    ).rejects.toThrow(
      'cannot add the subscription kind "ociImage" (the acme-images feed): the built-in kind "image" already claims the freight field "images"',
    );
  });

  it("fails the backend's startup, naming both kinds, when another module's kind has the name", async () => {
    const error = await startTestBackend({
      features: stagecoachFeatures(
        path.join(root, 'modules'),
        stagecoachKindsModule,
        moduleAdding('acme-releases', {
          name: 'releaseFeed',
          field: 'acmeReleases',
          expressionFunction: 'acmeReleaseFrom',
        }),
      ),
    }).catch(e => e);
    // the modules start in parallel: the one that adds the name second fails
    expect(error.message).toMatch(
      /Module '(acme-releases|example-kinds)' for plugin 'stagecoach' startup failed; caused by Error: cannot add the subscription kind "releaseFeed" \(.+\): a kind added by another module, "releaseFeed" \(.+\), already claims the name "releaseFeed"/,
    );
    expect(error.message).toContain('(the acme-releases feed)');
    expect(error.message).toContain(
      '(Versions listed by an HTTP JSON release feed)',
    );
  });

  it("fails the backend's startup when another module's kind has the expression function", async () => {
    const error = await startTestBackend({
      features: stagecoachFeatures(
        path.join(root, 'functions'),
        stagecoachKindsModule,
        moduleAdding('acme-releases', {
          name: 'acmeRelease',
          field: 'acmeReleases',
          expressionFunction: 'releaseFrom',
        }),
      ),
    }).catch(e => e);
    expect(error.message).toMatch(
      /cannot add the subscription kind "(acmeRelease|releaseFeed)" \(.+\): a kind added by another module, "(releaseFeed|acmeRelease)" \(.+\), already claims the expression function "releaseFrom"/,
    );
  });
});
