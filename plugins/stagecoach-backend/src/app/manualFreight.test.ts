import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { Knex } from 'knex';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { mockErrorHandler, mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { git as runGit } from '@stagecoach/git-server';
import { StagecoachEngine } from '.';
import { builtinSubscriptionKinds } from '../discovery/kinds';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { ProjectOwners, StagecoachAccess } from '../service/permissions';
import { createRouter } from '../service/router';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { silentLogger } from '../util/types';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';

jest.setTimeout(120_000);

const warehouse = (project: string, name: string, subscriptions: string, spec = '') => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: ${name}, namespace: ${project}}
spec:
  interval: 1h
${spec}  subscriptions:
${subscriptions}
`;

describe('freight assembled by hand, and freightCreationPolicy/Criteria (real Git server over HTTP)', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;
    let app: express.Express;
    let allow = true;
    const asked: string[] = [];

    const appSub = (constraint = '') =>
      `    - git: {repoURL: ${git.appURL}, commitSelectionStrategy: SemVer${constraint ? `, semverConstraint: "${constraint}"` : ''}}`;
    const manualSet = (constraint = '') =>
      warehouse('manual', 'hand', appSub(constraint), '  freightCreationPolicy: Manual\n') +
      warehouse(
        'manual',
        'pair',
        `${appSub()}\n    - git: {repoURL: ${git.gitopsURL}, commitSelectionStrategy: SemVer}`,
        '  freightCreationPolicy: Manual\n',
      ) +
      warehouse('manual', 'auto', appSub());
    const sha = async (tag: string) =>
      (await runGit(path.join(git.root, 'repos', 'app.git'), 'rev-parse', `${tag}^{commit}`)).trim();
    const origin = (name: string) => ({ kind: 'Warehouse' as const, name });

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({ knex, logger: silentLogger, egress: LOOPBACK_ALLOWED, workDir: `${git.root}/work` });
      await engine.projects.applyManifests('manual', manualSet());
      await engine.workers.discovery.runDue();

      const permissions = mockServices.permissions.mock({
        authorize: async requests => {
          asked.push(...requests.map(r => r.permission.name));
          return requests.map(() => ({ result: allow ? AuthorizeResult.ALLOW : AuthorizeResult.DENY }));
        },
      });
      const router = await createRouter({
        engine,
        httpAuth: mockServices.httpAuth(),
        access: StagecoachAccess.register(
          permissions,
          mockServices.permissionsRegistry.mock(),
          new ProjectOwners(catalogServiceMock(), mockServices.auth()),
          { listProjects: async () => ['manual'], stageLabels: async () => ({}) },
        ),
        auditor: mockServices.auditor.mock({
          createEvent: async () => ({ success: async () => undefined, fail: async () => undefined }),
        }),
        catalog: catalogServiceMock(),
        logger: mockServices.logger.mock(),
      });
      app = express().use('/api/stagecoach', router).use(mockErrorHandler());
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    describe('the engine', () => {
      it('a Manual warehouse discovers and lists tags, and makes no freight', async () => {
        const hand = await engine.warehouses.get('manual', 'hand');
        expect(hand.freightCreationPolicy).toBe('Manual');
        expect(hand.status.lastError).toBeUndefined();
        expect(hand.status.lastDiscoveryAt).toBeDefined();
        expect(hand.status.lastFreightId).toBeUndefined();
        expect((hand.status.discovered![0].git as any).artifacts.map((a: any) => a.tag)).toEqual([
          'v1.2.0',
          'v1.1.0',
          'v1.0.0',
        ]);
        expect(await engine.freight.list('manual', { origin: 'hand' })).toEqual([]);
        // Automatic is unchanged
        expect((await engine.warehouses.get('manual', 'auto')).freightCreationPolicy).toBe('Automatic');
        expect((await engine.freight.list('manual', { origin: 'auto' })).map(f => f.commits[0].tag)).toEqual(['v1.2.0']);
      });

      it('assembles freight from a discovered tag that is not the newest, with the ID discovery would give it', async () => {
        const id = await sha('v1.1.0'); // an annotated tag: the freight holds the commit
        const { freight, created } = await engine.freight.create(
          'manual',
          { origin: origin('hand'), commits: [{ repoURL: git.appURL, tag: 'v1.1.0' }] },
          'user:default/guest',
        );
        expect(created).toBe(true);
        expect(freight.id).toBe(
          builtinSubscriptionKinds.freightId('hand', { commits: [{ repoURL: git.appURL, id, tag: 'v1.1.0' }], images: [], charts: [] }),
        );
        expect(freight).toMatchObject({
          origin: { kind: 'Warehouse', name: 'hand' },
          commits: [{ repoURL: git.appURL, id, tag: 'v1.1.0' }],
          images: [],
          charts: [],
          // what the UI shows of it, worded by the git kind
          artifactLabels: [
            {
              kind: 'git',
              label: `${git.appURL.replace(/^https?:\/\//, '').replace(/\.git$/, '')}@v1.1.0`,
              detail: `Git ${git.appURL} at ${id} (tag v1.1.0)`,
            },
          ],
          currentlyIn: [],
        });
        expect(freight.alias).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
        expect((await engine.freight.list('manual', { origin: 'hand' })).map(f => f.id)).toEqual([freight.id]);
      });

      it('asking again, by tag, by (short) commit ID or with the URL spelled differently, gives the same freight', async () => {
        const [existing] = await engine.freight.list('manual', { origin: 'hand' });
        const id = await sha('v1.1.0');
        for (const commit of [
          { repoURL: git.appURL, tag: 'v1.1.0' },
          { repoURL: git.appURL, id },
          { repoURL: `${git.appURL.replace(/\.git$/, '')}/`, id: id.slice(0, 8).toUpperCase(), tag: 'v1.1.0' },
        ]) {
          const again = await engine.freight.create('manual', { origin: origin('hand'), commits: [commit] });
          expect(again.created).toBe(false);
          expect(again.freight.id).toBe(existing.id);
          expect(again.freight.alias).toBe(existing.alias);
        }
        expect(await engine.freight.list('manual', { origin: 'hand' })).toHaveLength(1);
      });

      it('freight assembled by hand from the newest artifacts is the freight discovery made', async () => {
        const [discovered] = await engine.freight.list('manual', { origin: 'auto' });
        const { freight, created } = await engine.freight.create('manual', {
          origin: origin('auto'),
          commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }],
        });
        expect(created).toBe(false);
        expect(freight.id).toBe(discovered.id);
      });

      it('refuses an artifact that was not discovered, saying what was and how to refresh', async () => {
        const attempt = engine.freight.create('manual', {
          origin: origin('hand'),
          commits: [{ repoURL: git.appURL, tag: 'v9.9.9' }],
        });
        await expect(attempt).rejects.toThrow(InputError);
        await expect(attempt).rejects.toThrow(
          /commits\[0\]: tag "v9\.9\.9" of http:\/\/.*\/app\.git has not been discovered by warehouse "hand": it has discovered v1\.2\.0 \([0-9a-f]{7}\), v1\.1\.0 \([0-9a-f]{7}\), v1\.0\.0 \([0-9a-f]{7}\) for subscriptions\[0\] \(git .*app\.git\)\. If it was pushed recently, refresh the warehouse \(POST \/api\/stagecoach\/projects\/manual\/warehouses\/hand\/refresh\)/,
        );
        // the tag exists, but not at that commit
        await expect(
          engine.freight.create('manual', {
            origin: origin('hand'),
            commits: [{ repoURL: git.appURL, tag: 'v1.0.0', id: await sha('v1.2.0') }],
          }),
        ).rejects.toThrow(/tag "v1\.0\.0" at commit [0-9a-f]{40} of .* has not been discovered/);
        // "latest" is a tag of the repository, but not one the SemVer subscription selects
        await expect(
          engine.freight.create('manual', { origin: origin('hand'), commits: [{ repoURL: git.appURL, tag: 'latest' }] }),
        ).rejects.toThrow(/tag "latest" .* has not been discovered/);
      });

      it('needs exactly one artifact per subscription, and names the subscription', async () => {
        await expect(
          engine.freight.create('manual', { origin: origin('pair'), commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }] }),
        ).rejects.toThrow(
          /freight from warehouse "pair" needs one artifact for each of its 2 subscriptions; the request has none for subscriptions\[1\] \(git .*gitops\.git\)/,
        );
        await expect(
          engine.freight.create('manual', {
            origin: origin('hand'),
            commits: [
              { repoURL: git.appURL, tag: 'v1.0.0' },
              { repoURL: git.appURL, tag: 'v1.1.0' },
            ],
          }),
        ).rejects.toThrow(
          /commits\[1\]: subscriptions\[0\] \(git .*app\.git\) already has an artifact in the request \(commits\[0\]\)/,
        );
        await expect(engine.freight.create('manual', { origin: origin('hand') })).rejects.toThrow(
          /the request has none for subscriptions\[0\] \(git .*app\.git\)/,
        );
        await expect(
          engine.freight.create('manual', {
            origin: origin('hand'),
            commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }],
            images: [{ repoURL: 'ghcr.io/acme/app', tag: '1.0.0' }],
          }),
        ).rejects.toThrow(/images\[0\]: warehouse "hand" has no image subscription for ghcr.io\/acme\/app/);
        // the gitops subscription has discovered nothing (no tags): it says so
        await expect(
          engine.freight.create('manual', {
            origin: origin('pair'),
            commits: [
              { repoURL: git.gitopsURL, tag: 'v1.0.0' },
              { repoURL: git.appURL, tag: 'v1.0.0' },
            ],
          }),
        ).rejects.toThrow(/commits\[0\]: .* it has discovered nothing for subscriptions\[1\]/);
      });

      it('answers NotFoundError for an unknown warehouse or project', async () => {
        const commits = [{ repoURL: git.appURL, tag: 'v1.0.0' }];
        await expect(engine.freight.create('manual', { origin: origin('nope'), commits })).rejects.toThrow(NotFoundError);
        await expect(engine.freight.create('nope', { origin: origin('hand'), commits })).rejects.toThrow(NotFoundError);
      });

      it('refuses a malformed request with the path of each problem', async () => {
        const bad = (body: unknown) => engine.freight.create('manual', body as any);
        await expect(
          bad({ origin: origin('hand'), commits: [{ repoURL: git.appURL, id: 'not-a-sha' }] }),
        ).rejects.toThrow(/commits\[0\]\.id: must be a commit SHA/);
        await expect(bad({ commits: 'v1.0.0' })).rejects.toThrow(/origin: is required; commits: Expected array/);
        await expect(bad({ origin: origin('hand'), images: [{ repoURL: 'x' }] })).rejects.toThrow(
          /images\[0\]: needs the image's tag, its digest, or both/,
        );
        await expect(bad({ origin: { kind: 'Stage', name: 'dev' } })).rejects.toThrow(/origin\.kind: /);
        await expect(bad({ origin: origin('hand'), tags: ['v1.0.0'] })).rejects.toThrow(/the body: unknown field "tags"/);
        await expect(bad('v1.0.0')).rejects.toThrow(/the body: Expected object, received string/);
        await expect(bad(null)).rejects.toThrow(InputError);
      });

      it('gives new freight the alias asked for, renames existing freight to it, and refuses one that is taken', async () => {
        const made = await engine.freight.create('manual', {
          origin: origin('hand'),
          commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }],
          alias: 'handpicked',
        });
        expect(made).toMatchObject({ created: true, freight: { alias: 'handpicked' } });
        await expect(
          engine.freight.create('manual', {
            origin: origin('hand'),
            commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }],
            alias: 'handpicked',
          }),
        ).rejects.toThrow(ConflictError);
        expect((await engine.freight.list('manual', { origin: 'hand' })).map(f => f.commits[0].tag)).not.toContain(
          'v1.2.0',
        );
        const renamed = await engine.freight.create('manual', {
          origin: origin('hand'),
          commits: [{ repoURL: git.appURL, tag: 'v1.1.0' }],
          alias: 'older-one',
        });
        expect(renamed).toMatchObject({ created: false, freight: { alias: 'older-one' } });
        await expect(
          engine.freight.create('manual', {
            origin: origin('hand'),
            commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }],
            alias: 'Not An Alias',
          }),
        ).rejects.toThrow(/alias must be 1 to 63 lowercase letters/);
      });
    });

    describe('POST /projects/{p}/freight', () => {
      const post = (project: string, body: unknown) =>
        request(app).post(`/api/stagecoach/projects/${project}/freight`).send(body as object);

      it('answers 201 with new freight, then 200 with the same freight', async () => {
        allow = true;
        asked.length = 0;
        const body = { origin: origin('pair'), commits: [] as object[] };
        // the gitops repository gets a tag; the warehouse discovers it (and still makes no freight)
        const gitops = path.join(git.root, 'repos', 'gitops.git');
        await runGit(gitops, 'tag', 'v0.1.0', 'main');
        await engine.warehouses.refresh('manual', 'pair');
        await engine.workers.discovery.runDue();
        expect(await engine.freight.list('manual', { origin: 'pair' })).toEqual([]);

        // in any order
        body.commits = [
          { repoURL: git.gitopsURL, tag: 'v0.1.0' },
          { repoURL: git.appURL, tag: 'v1.0.0' },
        ];
        const created = await post('manual', body);
        expect(created.status).toBe(201);
        expect(created.headers.location).toBe(`/api/stagecoach/projects/manual/freight/${created.body.id}`);
        expect(created.body.commits.map((c: any) => c.tag)).toEqual(['v1.0.0', 'v0.1.0']);
        expect(asked).toEqual(['stagecoach.freight.create']);

        const again = await post('manual', body);
        expect(again.status).toBe(200);
        expect(again.body).toEqual(created.body);
        const read = await request(app).get(`/api/stagecoach/projects/manual/freight/${created.body.alias}`);
        expect(read.body.id).toBe(created.body.id);
      });

      it('answers 400 naming what is wrong, 404 for unknown warehouses, 409 for a taken alias', async () => {
        const undiscovered = await post('manual', {
          origin: origin('hand'),
          commits: [{ repoURL: git.appURL, tag: 'v7.0.0' }],
        });
        expect(undiscovered.status).toBe(400);
        expect(undiscovered.body.error).toMatchObject({ name: 'InputError' });
        expect(undiscovered.body.error.message).toMatch(/tag "v7\.0\.0" .* has not been discovered by warehouse "hand"/);

        const count = await post('manual', { origin: origin('pair'), commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }] });
        expect(count.status).toBe(400);
        expect(count.body.error.message).toMatch(/none for subscriptions\[1\]/);

        const malformed = await post('manual', { origin: origin('hand'), commits: [{ repoURL: 42, tag: 'v1.0.0' }] });
        expect(malformed.status).toBe(400);
        // the OpenAPI document says repoURL is a string, so validation answers before the engine
        expect(malformed.body.error.message).toBe('request/body/commits/0/repoURL must be string');

        const notJson = await request(app)
          .post('/api/stagecoach/projects/manual/freight')
          .set('Content-Type', 'application/json')
          .send('{"origin": ');
        expect(notJson.status).toBe(400);

        expect((await post('manual', { origin: origin('nope'), commits: [] })).status).toBe(404);

        const taken = await post('manual', {
          origin: origin('hand'),
          commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }],
          alias: 'handpicked',
        });
        expect(taken.status).toBe(409);
      });

      it('answers 403 when the permission policy refuses stagecoach.freight.create', async () => {
        allow = false;
        asked.length = 0;
        try {
          const res = await post('manual', { origin: origin('hand'), commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }] });
          expect(res.status).toBe(403);
          expect(asked).toEqual(['stagecoach.freight.create']);
          expect(await engine.freight.list('manual', { origin: 'hand' })).toHaveLength(2);
        } finally {
          allow = true;
        }
      });
    });

    it('after its subscriptions change, a warehouse must discover again before freight is assembled', async () => {
      await engine.projects.applyManifests('manual', manualSet('<1.2.0'));
      const commits = [{ repoURL: git.appURL, tag: 'v1.1.0' }];
      await expect(engine.freight.create('manual', { origin: origin('hand'), commits })).rejects.toThrow(
        /its subscriptions changed since its last discovery/,
      );
      await engine.workers.discovery.runDue();
      expect((await engine.freight.create('manual', { origin: origin('hand'), commits })).created).toBe(false);
      await expect(
        engine.freight.create('manual', { origin: origin('hand'), commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }] }),
      ).rejects.toThrow(/it has discovered v1\.1\.0 \([0-9a-f]{7}\), v1\.0\.0/);
    });

    describe('freightCreationCriteria', () => {
      const criteria = (name: string, expression: string) =>
        warehouse('criteria', name, appSub(), `  freightCreationCriteria:\n    expression: ${JSON.stringify(expression)}\n`);

      it('makes freight only when the expression is true, and reports an expression that fails', async () => {
        await engine.projects.applyManifests(
          'criteria',
          criteria('yes', `commitFrom("${git.appURL}").tag == "v1.2.0"`) +
            criteria('kargo', `\${{ commitFrom('${git.appURL}').Tag == 'v1.2.0' && commitFrom('${git.appURL}').ID != '' }}`) +
            criteria('no', `commitFrom("${git.appURL}").tag == "v2.0.0"`) +
            criteria('broken', 'imageFrom("ghcr.io/acme/app").tag == "1.0.0"') +
            criteria('not-boolean', `commitFrom("${git.appURL}").tag`),
        );
        const results = await engine.workers.discovery.runDue();
        const byName = new Map(results.filter(r => r.project === 'criteria').map(r => [r.warehouse, r]));
        expect(byName.get('yes')!.createdFreightId).toBeDefined();
        expect(byName.get('kargo')!.createdFreightId).toBeDefined();
        for (const name of ['no', 'broken', 'not-boolean']) {
          expect(byName.get(name)!.createdFreightId).toBeUndefined();
          expect(await engine.freight.list('criteria', { origin: name })).toEqual([]);
          // what was discovered is listed all the same
          expect((await engine.warehouses.get('criteria', name)).status.discovered).toHaveLength(1);
        }
        expect((await engine.warehouses.get('criteria', 'no')).status.lastError).toBeUndefined();
        expect((await engine.warehouses.get('criteria', 'broken')).status.lastError).toMatch(
          /^spec\.freightCreationCriteria\.expression failed, so no freight was created: in "imageFrom\("ghcr\.io\/acme\/app"\)\.tag == "1\.0\.0"": the candidate freight has no image from ghcr\.io\/acme\/app$/,
        );
        expect((await engine.warehouses.get('criteria', 'not-boolean')).status.lastError).toMatch(
          /must be true or false, but it is "v1\.2\.0"/,
        );

        // freight is still assembled by hand where the criteria say no
        const manual = await engine.freight.create('criteria', {
          origin: origin('no'),
          commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }],
        });
        expect(manual.created).toBe(true);
      });

      it('checks the expression when manifests are applied', async () => {
        const attempt = engine.projects.applyManifests('criteria', criteria('typo', 'commitFrom("x").tag =='));
        await expect(attempt).rejects.toThrow(ManifestValidationError);
        const problems = await attempt.catch((e: ManifestValidationError) => e.problems);
        expect(problems).toEqual([
          expect.objectContaining({
            resource: 'Warehouse/typo',
            path: 'spec.freightCreationCriteria.expression',
            message: expect.stringMatching(/cannot parse "commitFrom\("x"\)\.tag ==": Expected expression/),
          }),
        ]);
        await expect(
          engine.projects.applyManifests(
            'criteria',
            warehouse('criteria', 'policy', appSub(), '  freightCreationPolicy: Sometimes\n'),
          ),
        ).rejects.toThrow(/spec\.freightCreationPolicy: must be Automatic or Manual/);
      });
    });
  });
});
