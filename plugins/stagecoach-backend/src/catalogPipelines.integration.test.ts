import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import {
  coreServices,
  createServiceFactory,
  type SchedulerService,
  type ServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import {
  catalogServiceRef,
  type CatalogService,
} from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import type {
  EntityPipeline,
  ManifestApply,
} from '@stagecoach/plugin-stagecoach-common';
import { stagecoachPlugin } from './plugin';
import { pipelineWithoutStage, pipelineYaml } from './__testUtils__/gitFixture';
import { git } from '@stagecoach/git-server';
import { startGiteaApi } from './__testUtils__/giteaApi';
import { PROGRESS_TEST_TIMEOUT_MS, untilProgress } from './__testUtils__/until';
import { staticServer } from './__testUtils__/staticServer';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * Pipelines from the catalog (issue 14), through the real backend plugin and Backstage's real
 * URL reader: the manifests are files on a loopback web server (answering ETag / 304 as any
 * would), read by the reader Backstage builds for a host in `backend.reading.allow`. The
 * catalog is an in-memory one whose entities the test changes; the scheduled task is run by
 * the test (the mock scheduler), one pass at a time.
 */
const TASK = 'stagecoach-catalog-pipelines';
const SECRET = 'a-generic-receiver-secret-for-the-test-0123456789';
const PROJECT = 'shop';
// nothing is discovered here (discovery is never run): the URLs only have to be well formed
const REPOS = {
  appURL: 'http://127.0.0.1:9/app.git',
  gitopsURL: 'http://127.0.0.1:9/gitops.git',
};

describe('pipelines from the catalog (stagecoach.io/pipeline-ref, Backstage URL reader on a loopback web server)', () => {
  let root: string;
  let web: Awaited<ReturnType<typeof staticServer>>;
  let gitea: Awaited<ReturnType<typeof startGiteaApi>>;
  let repo: string;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let server: Server;
  // the mock scheduler: the test runs the task itself (its factory installs this instance)
  const scheduler = mockServices.scheduler() as SchedulerService & {
    factory(options?: { skipTaskRunOnStartup?: boolean }): ServiceFactory;
  };
  let entities: Entity[] = [];
  /** What the plugin's auditor was told: each event and how it ended. */
  const audit: Array<{
    eventId: string;
    meta?: Record<string, unknown>;
    outcome?: string;
  }> = [];
  const auditor = createServiceFactory({
    service: coreServices.auditor,
    deps: {},
    factory: () =>
      mockServices.auditor.mock({
        createEvent: async ({ eventId, meta }) => {
          const event: (typeof audit)[number] = { eventId, meta };
          audit.push(event);
          return {
            success: async () => {
              event.outcome = 'success';
            },
            fail: async () => {
              event.outcome = 'fail';
            },
          };
        },
      }),
  });

  const component = (
    name: string,
    annotations: Record<string, string>,
  ): Entity => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default', annotations },
    spec: { type: 'service', owner: 'team', lifecycle: 'production' },
  });
  const writeFile = async (rel: string, text: string) => {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), text);
  };
  const pass = () => scheduler.triggerTask(TASK);
  const get = (p: string) =>
    request(server)
      .get(`/api/stagecoach${p}`)
      .set('Authorization', mockCredentials.user.header('user:default/jane'));
  const view = async (name: string): Promise<EntityPipeline> => {
    const res = await get(`/entities/component/default/${name}/pipeline`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const history = async (): Promise<ManifestApply[]> =>
    (await get(`/projects/${PROJECT}/manifests/history`)).body.items;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-catalog-'));
    web = await staticServer(root);
    repo = path.join(root, 'api.git-work');
    await fs.mkdir(repo);
    await git(repo, 'init', '-q', '-b', 'main');
    gitea = await startGiteaApi({ 'acme/api': repo });
    const host = new URL(web.url).host;
    const catalog = createServiceFactory({
      service: catalogServiceRef,
      deps: {},
      // the entities as they are at each call: the test adds, changes and removes them
      factory: () =>
        ({
          getEntities: (req, options) =>
            catalogServiceMock({ entities }).getEntities(req, options),
          getEntityByRef: (ref, options) =>
            catalogServiceMock({ entities }).getEntityByRef(ref, options),
        } as Partial<CatalogService> as CatalogService),
    });
    backend = await startTestBackend({
      features: [
        stagecoachPlugin,
        catalog,
        auditor,
        scheduler.factory({ skipTaskRunOnStartup: true }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: {
            backend: { reading: { allow: [{ host }] } },
            integrations: {
              gitea: [{ host: gitea.host, baseUrl: gitea.baseUrl }],
            },
            stagecoach: {
              workDir: path.join(root, 'work'),
              // an administrator hands over this project, applied through the API, to the catalog
              catalogPipelines: { adopt: ['handed'] },
              webhooks: {
                receivers: [{ name: 'ci', type: 'generic', secret: SECRET }],
              },
            },
          },
        }),
      ],
    });
    server = backend.server;
  });
  afterAll(async () => {
    await backend?.stop();
    web?.close();
    await gitea?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('applies what changed, keeps the last good pipeline over a refused change, refuses a second owner and lets go when the annotation goes', async () => {
    await writeFile(
      'shop/.stagecoach/pipeline.yaml',
      pipelineYaml(REPOS, PROJECT),
    );
    await writeFile('copy/pipeline.yaml', pipelineYaml(REPOS, PROJECT));
    const owner = component('shop', {
      'stagecoach.io/project': PROJECT,
      // relative to the entity's source location, as techdocs-ref is
      'backstage.io/source-location': `url:${web.url}/shop/`,
      'stagecoach.io/pipeline-ref': 'dir:./.stagecoach/pipeline.yaml',
    });
    const rival = component('shop-copy', {
      'stagecoach.io/project': PROJECT,
      'stagecoach.io/pipeline-ref': `url:${web.url}/copy/pipeline.yaml`,
    });
    entities = [rival, owner];

    // first apply: the first entity (by ref) owns the project
    await pass();
    let shop = await view('shop');
    expect(shop.stages.map(s => s.name)).toEqual(['dev', 'staging']);
    expect(shop.source).toEqual({
      ref: 'dir:./.stagecoach/pipeline.yaml',
      entity: 'component:default/shop',
      managed: true,
      revision: expect.any(String),
      appliedAt: expect.any(String),
      checkedAt: expect.any(String),
    });
    const first = shop.source!.revision;
    // the web server's ETag, shown without its quotes
    expect(first).toMatch(/^[^"]+$/);
    expect(await history()).toEqual([
      expect.objectContaining({
        by: 'component:default/shop',
        revision: first,
        pruned: true,
      }),
    ]);
    // audited as the REST API's applies are, with the entity as actor
    expect(audit.filter(e => e.eventId === 'manifests-apply')).toEqual([
      {
        eventId: 'manifests-apply',
        meta: {
          project: PROJECT,
          actor: 'component:default/shop',
          source: 'dir:./.stagecoach/pipeline.yaml',
          revision: first,
          prune: true,
        },
        outcome: 'success',
      },
    ]);

    // the second entity naming the project is refused, with the owner's name
    const copy = await view('shop-copy');
    expect(copy.source).toEqual({
      ref: `url:${web.url}/copy/pipeline.yaml`,
      entity: 'component:default/shop',
      managed: false,
      error: expect.stringContaining(
        'takes its pipeline from component:default/shop',
      ),
    });
    expect(web.requests.filter(r => r.url.startsWith('/copy/'))).toEqual([]);

    // unchanged: one conditional request answered 304, nothing applied again
    await pass();
    expect(
      web.requests.filter(r => r.url.startsWith('/shop/')).map(r => r.status),
    ).toEqual([200, 304]);
    expect(await history()).toHaveLength(1);

    // a broken change: recorded with its problems, the last good pipeline stays
    await writeFile(
      'shop/.stagecoach/pipeline.yaml',
      pipelineYaml(REPOS, PROJECT).replace(
        'kind: Warehouse, name: app}',
        'kind: Warehouse, name: missing}',
      ),
    );
    await pass();
    shop = await view('shop');
    expect(shop.stages.map(s => s.name)).toEqual(['dev', 'staging']);
    expect(shop.source).toMatchObject({
      managed: true,
      revision: first,
      refusedRevision: expect.any(String),
      problems: expect.arrayContaining([
        expect.objectContaining({
          document: 2,
          resource: 'Stage/dev',
          path: expect.stringContaining('requestedFreight'),
          message: expect.any(String),
        }),
      ]),
    });
    expect(shop.source!.refusedRevision).not.toBe(first);
    expect(
      audit.filter(e => e.eventId === 'manifests-apply').map(e => e.outcome),
    ).toEqual(['success', 'fail']);
    expect(await history()).toHaveLength(1);
    // and it is not tried again while it stays the same
    await pass();
    expect(web.requests.at(-1)).toEqual({
      url: '/shop/.stagecoach/pipeline.yaml',
      status: 304,
    });

    // a fixed change that leaves a stage out: applied with prune, the repository is the source of truth
    await writeFile(
      'shop/.stagecoach/pipeline.yaml',
      pipelineWithoutStage(pipelineYaml(REPOS, PROJECT), 'staging'),
    );
    await pass();
    shop = await view('shop');
    expect(shop.stages.map(s => s.name)).toEqual(['dev']);
    expect(shop.source).toEqual({
      ref: 'dir:./.stagecoach/pipeline.yaml',
      entity: 'component:default/shop',
      managed: true,
      revision: expect.any(String),
      appliedAt: expect.any(String),
      checkedAt: expect.any(String),
    });
    expect(shop.source!.revision).not.toBe(first);
    expect(await history()).toEqual([
      expect.objectContaining({
        by: 'component:default/shop',
        revision: shop.source!.revision,
      }),
      expect.objectContaining({ revision: first }),
    ]);

    // the owner drops the annotation (and the rival is gone): the project stays, no longer managed
    const { 'stagecoach.io/pipeline-ref': _dropped, ...kept } =
      owner.metadata.annotations!;
    entities = [component('shop', kept)];
    await writeFile('shop/.stagecoach/pipeline.yaml', '# gone\n');
    await pass();
    shop = await view('shop');
    expect(shop.stages.map(s => s.name)).toEqual(['dev']);
    expect(shop.source).toMatchObject({
      entity: 'component:default/shop',
      managed: false,
    });
    expect(await history()).toHaveLength(2);
  });

  it('leaves a project applied another way out of reach of a catalog entity, unless an administrator hands it over (stagecoach.catalogPipelines.adopt)', async () => {
    const apply = (project: string) =>
      request(server)
        .put(`/api/stagecoach/projects/${project}/manifests`)
        .set('Authorization', mockCredentials.user.header('user:default/jane'))
        .set('Content-Type', 'application/yaml')
        .send(pipelineYaml(REPOS, project));
    expect((await apply('kept')).status).toBe(200);
    expect((await apply('handed')).status).toBe(200);
    // both entities' pipelines would drop staging: the repository would be the source of truth
    await writeFile(
      'taker/pipeline.yaml',
      pipelineWithoutStage(pipelineYaml(REPOS, 'kept'), 'staging'),
    );
    await writeFile(
      'heir/pipeline.yaml',
      pipelineWithoutStage(pipelineYaml(REPOS, 'handed'), 'staging'),
    );
    entities = [
      component('taker', {
        'stagecoach.io/project': 'kept',
        'stagecoach.io/pipeline-ref': `url:${web.url}/taker/pipeline.yaml`,
      }),
      component('heir', {
        'stagecoach.io/project': 'handed',
        'stagecoach.io/pipeline-ref': `url:${web.url}/heir/pipeline.yaml`,
      }),
    ];
    await pass();

    // kept: nothing read, nothing applied, and the entity says why
    const taker = await view('taker');
    expect(taker.stages.map(s => s.name)).toEqual(['dev', 'staging']);
    expect(taker.source).toEqual({
      ref: `url:${web.url}/taker/pipeline.yaml`,
      entity: 'component:default/taker',
      managed: false,
      error:
        "project kept is not managed from the catalog (it was applied another way): component:default/taker's " +
        `url:${web.url}/taker/pipeline.yaml is not applied until an administrator hands the project over by listing it in stagecoach.catalogPipelines.adopt`,
    });
    expect(web.requests.filter(r => r.url.startsWith('/taker/'))).toEqual([]);
    const keptHistory = (await get('/projects/kept/manifests/history')).body
      .items as ManifestApply[];
    expect(keptHistory.map(h => h.by)).toEqual(['user:default/jane']);

    // handed: the administrator's list lets the entity take it over, with prune
    const heir = await view('heir');
    expect(heir.stages.map(s => s.name)).toEqual(['dev']);
    expect(heir.source).toMatchObject({
      entity: 'component:default/heir',
      managed: true,
    });
  });

  it('reads a dir: folder of an SCM at its commit (Gitea API on loopback over a real git repository), placing problems in their file', async () => {
    const [warehouse, ...stages] = pipelineYaml(REPOS, 'api')
      .split(/^---\n/m)
      .filter(Boolean);
    const commit = async (files: Record<string, string>) => {
      for (const [file, text] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(repo, file)), {
          recursive: true,
        });
        await fs.writeFile(path.join(repo, file), text);
      }
      await git(repo, 'add', '-A');
      await git(repo, 'commit', '-q', '-m', 'pipeline');
      return git(repo, 'rev-parse', 'HEAD');
    };
    const first = await commit({
      'README.md': '# api\n',
      'deploy/stagecoach/warehouse.yaml': warehouse,
      'deploy/stagecoach/stages.yaml': stages.join('---\n'),
      'deploy/stagecoach/notes.txt': 'not a manifest',
    });
    entities = [
      component('api', {
        'stagecoach.io/project': 'api',
        'backstage.io/source-location': `url:${gitea.baseUrl}/acme/api/src/branch/main/`,
        'stagecoach.io/pipeline-ref': 'dir:./deploy/stagecoach',
      }),
    ];

    await pass();
    let api = await view('api');
    expect(api.stages.map(s => s.name)).toEqual(['dev', 'staging']);
    expect(api.source).toMatchObject({ managed: true, revision: first });
    const archives = () =>
      gitea.requests.filter(r => r.includes('/archive/')).length;
    expect(archives()).toBe(1);

    // the same commit: the reader asks for the commit only, and nothing is applied again
    await pass();
    expect(archives()).toBe(1);
    expect(gitea.requests.at(-1)).toBe(
      '/api/v1/repos/acme/api/git/commits/main',
    );

    const broken = await commit({
      'deploy/stagecoach/stages.yaml': stages
        .join('---\n')
        .replace(
          'kind: Warehouse, name: app}',
          'kind: Warehouse, name: missing}',
        ),
    });
    await pass();
    api = await view('api');
    expect(api.stages.map(s => s.name)).toEqual(['dev', 'staging']);
    expect(api.source).toMatchObject({
      revision: first,
      refusedRevision: broken,
      problems: expect.arrayContaining([
        expect.objectContaining({
          file: 'stages.yaml',
          document: 1,
          resource: 'Stage/dev',
        }),
      ]),
    });

    // fixed and pushed: a Git push webhook runs the pass at once, without waiting for the schedule
    const fixed = await commit({
      'deploy/stagecoach/stages.yaml': stages.join('---\n'),
    });
    const hook = await request(server)
      .post('/api/stagecoach/webhooks/ci')
      .set('Authorization', `Bearer ${SECRET}`)
      .send({ repoURLs: [`${gitea.baseUrl}/acme/api.git`] });
    expect(hook.status).toBe(202);
    api = await untilProgress(
      () => view('api'),
      v => v.source?.revision === fixed,
      'the pushed pipeline applied',
      // each pass of the catalog records when it checked the source
      { progress: v => v.source?.checkedAt },
    );
    expect(api.source).toEqual({
      ref: 'dir:./deploy/stagecoach',
      entity: 'component:default/api',
      managed: true,
      revision: fixed,
      appliedAt: expect.any(String),
      checkedAt: expect.any(String),
    });
  });
});
