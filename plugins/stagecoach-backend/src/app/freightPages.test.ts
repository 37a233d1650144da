import {
  PROGRESS_TEST_TIMEOUT_MS,
  untilPromotionEnds,
} from '../__testUtils__/until';
import { InputError } from '@backstage/errors';
import { mockErrorHandler, mockServices } from '@backstage/backend-test-utils';
import express from 'express';
import request from 'supertest';
import { createRouter, RouterOptions } from '../service/router';
import { Knex } from 'knex';
import os from 'node:os';
import path from 'node:path';
import { StagecoachEngine } from './StagecoachEngine';
import { createTestDatabases } from '../__testUtils__/databases';
import { silentLogger } from '../util/types';
import { encodeFreightCursor } from '../store/freightCursor';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

const REPO = 'https://git.example.com/acme/app.git';
const OTHER = 'https://git.example.com/acme/other.git';

/** Control-flow stages (no steps): promotions succeed at once, as verified. */
const manifests = (project: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: ${project}}
spec:
  subscriptions:
    - git: {repoURL: ${REPO}, commitSelectionStrategy: SemVer}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: other, namespace: ${project}}
spec:
  subscriptions:
    - git: {repoURL: ${OTHER}, commitSelectionStrategy: SemVer}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: ${project}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: ${project}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {stages: [dev]}
`;

/** More freight than the old window of 100 newest, several sharing one discovery time. */
const APP_FREIGHT = 150;
const OTHER_FREIGHT = 20;

const waitFinal = (engine: StagecoachEngine, project: string, id: string) =>
  untilPromotionEnds(
    () => engine.promotions.get(project, id),
    `promotion ${id}`,
  );

describe('freight pages: cursor, limit and server-side filters', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    const project = 'big';
    /** Freight IDs of warehouse app, oldest first, with their tags. */
    const app: { id: string; alias: string; tag: string }[] = [];

    async function store(warehouse: string, repoURL: string, i: number) {
      const tag = `v1.${i}.0`;
      // three freight per second: ties on created_at are broken by ID
      const at = new Date(
        Date.parse('2026-12-01T10:00:00.000Z') + Math.floor(i / 3) * 1000,
      ).toISOString();
      const { freight } = await engine.stores.freight.ensure(
        project,
        warehouse,
        {
          commits: [{ repoURL, id: `${warehouse}${i}`.padEnd(40, '0'), tag }],
          images: [],
          charts: [],
        },
        at,
      );
      return { id: freight.id, alias: freight.alias, tag };
    }

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        knex,
        logger: silentLogger,
        workDir: path.join(
          os.tmpdir(),
          `stagecoach-freight-pages-${process.pid}-${databaseId}`,
        ),
        worker: { pollIntervalMs: 20 },
      });
      engine.start();
      await engine.projects.applyManifests(project, manifests(project));
      for (let i = 0; i < APP_FREIGHT; i++)
        app.push(await store('app', REPO, i));
      for (let i = 0; i < OTHER_FREIGHT; i++) await store('other', OTHER, i);
      // the oldest freight goes to dev and on to prod; the tenth oldest to dev after it
      for (const [stage, f] of [
        ['dev', app[0]],
        ['prod', app[0]],
        ['dev', app[9]],
      ] as const) {
        const p = await waitFinal(
          engine,
          project,
          (
            await engine.promotions.promote(project, stage, f.alias)
          ).id,
        );
        // the setup needs these promotions to have succeeded: said here, not asserted outside a test
        if (p.phase !== 'Succeeded')
          throw new Error(
            `setup: the promotion to ${stage} ended ${p.phase}: ${p.message}`,
          );
      }
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
    });

    /** Every page of a list, following nextCursor. */
    async function all<T>(
      read: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>,
    ) {
      const pages: T[][] = [];
      let cursor: string | undefined;
      do {
        const page = await read(cursor);
        pages.push(page.items);
        cursor = page.nextCursor;
      } while (cursor && pages.length < 100);
      return pages;
    }

    it('pages cover every freight once, newest first, 50 a page by default', async () => {
      const pages = await all(cursor =>
        engine.freight.page(project, { cursor }),
      );
      expect(pages.map(p => p.length)).toEqual([50, 50, 50, 20]);
      const ids = pages.flat().map(f => f.id);
      expect(new Set(ids).size).toBe(APP_FREIGHT + OTHER_FREIGHT);
      const keys = pages.flat().map(f => [f.createdAt, f.id] as const);
      for (let i = 1; i < keys.length; i++) {
        const [[at0, id0], [at1, id1]] = [keys[i - 1], keys[i]];
        expect(at0 > at1 || (at0 === at1 && id0 < id1)).toBe(true);
      }
    });

    it('a cursor stays good when newer freight arrives: the next page neither repeats nor skips', async () => {
      const first = await engine.freight.page(project, {
        warehouse: 'other',
        limit: 7,
      });
      const late = await engine.stores.freight.ensure(
        project,
        'other',
        {
          commits: [
            { repoURL: OTHER, id: 'late'.padEnd(40, '0'), tag: 'v9.0.0' },
          ],
          images: [],
          charts: [],
        },
        '2026-12-31T00:00:00.000Z',
      );
      const rest = await all(cursor =>
        engine.freight.page(project, {
          warehouse: 'other',
          limit: 7,
          cursor: cursor ?? first.nextCursor,
        }),
      );
      const seen = [...first.items, ...rest.flat()].map(f => f.id);
      expect(seen).toHaveLength(OTHER_FREIGHT);
      expect(new Set(seen).size).toBe(OTHER_FREIGHT);
      expect(seen).not.toContain(late.freight.id);
      // a new first page starts with it
      expect(
        (await engine.freight.page(project, { warehouse: 'other', limit: 1 }))
          .items[0].id,
      ).toBe(late.freight.id);
      await knex('stagecoach_freight')
        .where({ project, id: late.freight.id })
        .delete();
    });

    it('filters on the server: warehouse, q, inStage, verifiedIn, and what may enter a stage', async () => {
      const ofApp = (
        await all(cursor =>
          engine.freight.page(project, {
            warehouse: 'app',
            limit: 200,
            cursor,
          }),
        )
      ).flat();
      expect(ofApp).toHaveLength(APP_FREIGHT);
      expect(ofApp.every(f => f.origin.name === 'app')).toBe(true);
      // the old `origin` name still works through the route; here by tag, alias and ID
      expect(
        (await engine.freight.page(project, { q: 'V1.42.0' })).items.map(
          f => f.id,
        ),
      ).toEqual([app[42].id]);
      expect(
        (await engine.freight.page(project, { q: app[77].alias })).items.map(
          f => f.id,
        ),
      ).toEqual([app[77].id]);
      expect(
        (
          await engine.freight.page(project, { q: app[5].id.slice(0, 12) })
        ).items.map(f => f.id),
      ).toEqual([app[5].id]);
      // LIKE's wildcards are taken literally
      expect((await engine.freight.page(project, { q: '%' })).items).toEqual(
        [],
      );
      expect(
        (await engine.freight.page(project, { q: 'v1._.0' })).items,
      ).toEqual([]);

      expect(
        (await engine.freight.page(project, { inStage: 'dev' })).items.map(
          f => f.id,
        ),
      ).toEqual([app[9].id]);
      expect(
        (await engine.freight.page(project, { inStage: 'prod' })).items.map(
          f => f.id,
        ),
      ).toEqual([app[0].id]);
      expect(
        (await engine.freight.page(project, { verifiedIn: 'dev' })).items.map(
          f => f.id,
        ),
      ).toEqual([app[9].id, app[0].id]);
      // prod takes what dev verified: the two, found beyond the newest 100
      expect(
        (
          await engine.freight.page(project, { stage: 'prod', limit: 1 })
        ).items.map(f => f.id),
      ).toEqual([app[9].id]);
      const prod = await all(cursor =>
        engine.freight.page(project, { stage: 'prod', limit: 1, cursor }),
      );
      expect(prod.flat().map(f => f.id)).toEqual([app[9].id, app[0].id]);

      await expect(
        engine.freight.page(project, { inStage: 'nowhere' }),
      ).rejects.toThrow(/nowhere/);
    });

    it('a stage page: its warehouses only, q, and the available filter across pages', async () => {
      const pages = await all(cursor =>
        engine.stages.freight(project, 'prod', { limit: 60, cursor }),
      );
      expect(pages.map(p => p.length)).toEqual([60, 60, 30]);
      const items = pages.flat();
      expect(items.every(i => i.freight.origin.name === 'app')).toBe(true);
      expect(items.filter(i => i.available).map(i => i.freight.id)).toEqual([
        app[9].id,
        app[0].id,
      ]);
      const available = await engine.stages.freight(project, 'prod', {
        available: true,
      });
      expect(available.items.map(i => i.freight.id)).toEqual([
        app[9].id,
        app[0].id,
      ]);
      expect(available.nextCursor).toBeUndefined();
      expect(
        (
          await engine.stages.freight(project, 'dev', { q: 'v1.3.0' })
        ).items.map(i => i.freight.id),
      ).toEqual([app[3].id]);
      await expect(
        engine.stages.freight(project, 'dev', { warehouse: 'other' }),
      ).rejects.toThrow(
        new InputError(
          'warehouse other is not one stage dev takes freight from (app)',
        ),
      );
    });

    it('refuses a cursor it did not give, and a limit out of bounds, naming them', async () => {
      for (const cursor of [
        'nope!',
        'bm9wZQ',
        encodeFreightCursor({ createdAt: 'x', id: 'y' }).replace(/^.../, 'AAA'),
      ]) {
        await expect(engine.freight.page(project, { cursor })).rejects.toThrow(
          InputError,
        );
        await expect(engine.freight.page(project, { cursor })).rejects.toThrow(
          /^cursor /,
        );
        await expect(
          engine.stages.freight(project, 'dev', { cursor }),
        ).rejects.toThrow(/^cursor /);
      }
      for (const limit of [0, 201, 1.5]) {
        await expect(engine.freight.page(project, { limit })).rejects.toThrow(
          new InputError(
            'limit must be an integer from 1 to 200 (freight per page)',
          ),
        );
        await expect(
          engine.stages.freight(project, 'dev', { limit }),
        ).rejects.toThrow(/^limit /);
      }
      expect(
        (await engine.freight.page(project, { limit: 200 })).items,
      ).toHaveLength(
        APP_FREIGHT + OTHER_FREIGHT > 200 ? 200 : APP_FREIGHT + OTHER_FREIGHT,
      );
      expect(
        (await engine.freight.page(project, { limit: 1 })).items,
      ).toHaveLength(1);
    });

    it('over HTTP: {items, nextCursor}, and a 400 naming a bad cursor or limit', async () => {
      const api = express()
        .use(
          await createRouter({
            engine,
            httpAuth: mockServices.httpAuth(),
            // every read allowed: the permission checks are router.test.ts's
            access: {
              checkProject: async () => undefined,
              checkStage: async () => undefined,
            } as unknown as RouterOptions['access'],
            auditor: mockServices.auditor.mock(),
            catalog: {} as RouterOptions['catalog'],
            logger: mockServices.logger.mock(),
          }),
        )
        .use(mockErrorHandler());
      const first = await request(api).get(
        `/projects/${project}/freight?warehouse=app&limit=100`,
      );
      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(100);
      const second = await request(api)
        .get(`/projects/${project}/freight`)
        .query({ warehouse: 'app', limit: 100, cursor: first.body.nextCursor });
      expect(second.body.items).toHaveLength(APP_FREIGHT - 100);
      expect(second.body.nextCursor).toBeUndefined();
      // the older name of the warehouse filter still works
      expect(
        (
          await request(api).get(
            `/projects/${project}/freight?origin=other&limit=200`,
          )
        ).body.items,
      ).toHaveLength(OTHER_FREIGHT);
      const stage = await request(api).get(
        `/projects/${project}/stages/prod/freight?available=true&q=v1.9.0`,
      );
      expect(stage.body).toEqual({
        stage: 'prod',
        items: [
          expect.objectContaining({
            available: true,
            freight: expect.objectContaining({ id: app[9].id }),
          }),
        ],
      });

      const bad = await request(api).get(
        `/projects/${project}/stages/dev/freight?cursor=not-a-cursor`,
      );
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(
        /^cursor "not-a-cursor" is not one this API gave/,
      );
      const big = await request(api).get(
        `/projects/${project}/freight?limit=201`,
      );
      expect(big.status).toBe(400);
      expect(big.body.error.message).toMatch(/limit must be <= 200/);
    });

    it('views at scale: a stage shows its freight however old, and each freight its stages', async () => {
      const stages = await engine.stages.list(project);
      expect(stages.find(s => s.name === 'prod')!.currentFreight).toEqual({
        id: app[0].id,
        alias: app[0].alias,
      });
      const pipeline = await engine.entities.get(project);
      // the 100 newest, then the older freight the stages hold: both are older than the newest 100
      expect(pipeline.freight).toHaveLength(102);
      const shown = new Map(pipeline.freight.map(f => [f.id, f]));
      expect(shown.get(app[0].id)!.currentlyIn).toEqual(['prod']);
      expect(shown.get(app[9].id)!.currentlyIn).toEqual(['dev']);
      expect(pipeline.freight.slice(100).map(f => f.id)).toEqual([
        app[9].id,
        app[0].id,
      ]);
      const page = await engine.freight.page(project, {
        warehouse: 'app',
        limit: 200,
      });
      expect(page.items.find(f => f.id === app[0].id)!.currentlyIn).toEqual([
        'prod',
      ]);
    });

    it('freight approved for a stage may enter it: the database lets it through, found among the old', async () => {
      await engine.freight.approve(
        project,
        app[50].alias,
        'prod',
        'user:default/ada',
      );
      const available = await engine.stages.freight(project, 'prod', {
        available: true,
        limit: 2,
      });
      expect(available.items.map(i => i.freight.id)).toEqual([
        app[50].id,
        app[9].id,
      ]);
      const rest = await engine.stages.freight(project, 'prod', {
        available: true,
        limit: 2,
        cursor: available.nextCursor,
      });
      expect(rest.items.map(i => i.freight.id)).toEqual([app[0].id]);
      expect(rest.nextCursor).toBeUndefined();
      expect(
        (await engine.freight.page(project, { stage: 'prod' })).items.map(
          f => f.id,
        ),
      ).toEqual([app[50].id, app[9].id, app[0].id]);
    });

    it('the auto-promotion candidate is marked on whichever page holds it', async () => {
      const auto = 'auto';
      await engine.projects.applyManifests(
        auto,
        `${manifests(auto)}---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: {name: ${auto}, namespace: ${auto}}
spec:
  promotionPolicies:
    - stageSelector: {name: prod}
      autoPromotionEnabled: true
`,
      );
      const ids: string[] = [];
      for (let i = 0; i < 120; i++) {
        const { freight } = await engine.stores.freight.ensure(
          auto,
          'app',
          {
            commits: [
              {
                repoURL: REPO,
                id: `auto${i}`.padEnd(40, '0'),
                tag: `v2.${i}.0`,
              },
            ],
            images: [],
            charts: [],
          },
          new Date(
            Date.parse('2026-12-02T10:00:00.000Z') + i * 1000,
          ).toISOString(),
        );
        ids.push(freight.id);
      }
      // the oldest freight is verified in dev: the only one prod may take, so its candidate
      const p = await waitFinal(
        engine,
        auto,
        (
          await engine.promotions.promote(auto, 'dev', ids[0])
        ).id,
      );
      expect(p.phase).toBe('Succeeded');
      const pages = await all(cursor =>
        engine.stages.freight(auto, 'prod', { cursor }),
      );
      expect(pages.map(x => x.length)).toEqual([50, 50, 20]);
      const marked = pages.flat().filter(i => i.autoPromotionCandidate);
      expect(marked.map(i => i.freight.id)).toEqual([ids[0]]);
      expect(pages[2][19].freight.id).toBe(ids[0]);
      await engine.workers.autoPromotion.idle();
      await engine.workers.promotion.idle();
    });
  });
});
