import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  coreServices,
  createServiceFactory,
  type BackstageCredentials,
  type PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  scaffolderActionsExtensionPoint,
  type TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
// the test runs the real Stagecoach plugin next to the module (a dev dependency only)
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import stagecoachPlugin from '@stagecoach/plugin-stagecoach-backend';
import {
  createBareRepo,
  git,
  startGitHttpServer,
  type GitHttpServer,
} from '@stagecoach/git-server';
import scaffolderModuleStagecoach from './index';

jest.setTimeout(30 * 60_000);

/**
 * The module's actions as the scaffolder gets them (through scaffolderActionsExtensionPoint),
 * run with the scaffolder's mock action context against the real Stagecoach plugin in the same
 * test backend (startTestBackend, its HTTP server on loopback, found through the discovery
 * service), which watches a Git repository served on loopback by git http-backend. The
 * tokens are the test backend's mock ones, made for the user the context names.
 */

const JANE = 'user:default/jane';
/** The permission policy refuses her everything but reading. */
const MALLORY = 'user:default/mallory';

const userOf = (credentials: BackstageCredentials) =>
  (credentials.principal as { userEntityRef?: string }).userEntityRef;

const decide = (credentials: BackstageCredentials, permission: string) =>
  userOf(credentials) === MALLORY && permission !== 'stagecoach.project.read'
    ? AuthorizeResult.DENY
    : AuthorizeResult.ALLOW;

/** A policy that allows everyone everything, except Mallory, who may only read. */
const policy = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: (): PermissionsService => ({
    async authorize(requests, { credentials }) {
      return requests.map(r => ({
        result: decide(credentials, r.permission.name),
      })) as any;
    },
    async authorizeConditional(requests, { credentials }) {
      return requests.map(r => ({
        result: decide(credentials, r.permission.name),
      })) as any;
    },
  }),
});

describe('Stagecoach scaffolder actions (real Stagecoach plugin on a loopback test backend, loopback Git server)', () => {
  let root: string;
  let gitServer: GitHttpServer;
  let appURL: string;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const actions: TemplateAction<any, any, any>[] = [];

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-scaffolder-'));
    const repos = path.join(root, 'repos');
    await createBareRepo(repos, 'app', [
      {
        files: { VERSION: '1.0.0\n' },
        message: 'release 1.0.0',
        tag: 'v1.0.0',
      },
    ]);
    gitServer = await startGitHttpServer({ root: repos });
    appURL = `${gitServer.url}/app.git`;
    backend = await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          { addActions: (...a: any[]) => actions.push(...a) },
        ],
      ],
      features: [
        scaffolderModuleStagecoach,
        stagecoachPlugin,
        catalogServiceMock.factory({ entities: [] }),
        policy,
        mockServices.rootConfig.factory({
          data: {
            stagecoach: {
              workDir: path.join(root, 'work'),
              egress: { allowLoopback: true },
            },
          },
        }),
      ],
    });
  });
  afterAll(async () => {
    await backend?.stop();
    await gitServer?.close();
    await fs.rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  const action = (id: string) => {
    const found = actions.find(a => a.id === id);
    if (!found)
      throw new Error(`no action ${id}: ${actions.map(a => a.id).join(', ')}`);
    return found;
  };

  /** Runs an action as a user, in a workspace of its own; answers its outputs. */
  async function run(
    id: string,
    input: Record<string, unknown>,
    options: { user?: string; isDryRun?: boolean; workspacePath?: string } = {},
  ) {
    const outputs: Record<string, unknown> = {};
    const logger = mockServices.logger.mock();
    const ctx = {
      // 0.3.14 takes input, workspacePath and logger; the rest is set over what it makes
      ...createMockActionContext({
        input: input as any,
        workspacePath:
          options.workspacePath ?? (await fs.mkdtemp(path.join(root, 'ws-'))),
        logger,
      }),
      isDryRun: options.isDryRun,
      getInitiatorCredentials: async () =>
        mockCredentials.user(options.user ?? JANE),
      output: (name: string | number | symbol, value: unknown) => {
        outputs[String(name)] = value;
      },
    };
    await action(id).handler(ctx);
    const logged = logger.info.mock.calls.map(c => String(c[0]));
    return { outputs, logged, workspacePath: ctx.workspacePath };
  }

  /** Stagecoach's API read directly, as Jane. */
  async function get(url: string) {
    const res = await fetch(
      `http://localhost:${backend.server.port()}/api/stagecoach${url}`,
      { headers: { Authorization: mockCredentials.user.header(JANE) } },
    );
    return {
      status: res.status,
      body: await res.json().catch(() => undefined),
    };
  }

  it('registers the five actions, each with a schema, examples and dry run', () => {
    expect(actions.map(a => a.id).sort()).toEqual([
      'stagecoach:freight:create',
      'stagecoach:freight:wait',
      'stagecoach:manifests:apply',
      'stagecoach:pipeline:create',
      'stagecoach:promote',
    ]);
    for (const a of actions) {
      expect(a.supportsDryRun).toBe(true);
      expect(a.examples?.length).toBeGreaterThan(0);
      expect(a.schema?.input).toBeDefined();
      for (const e of a.examples ?? []) {
        const [doc] = parseAllDocuments(e.example) as any[];
        expect(doc.errors).toEqual([]);
        expect(doc.toJS().steps[0].action).toBe(a.id);
      }
    }
  });

  it('pipeline:create writes a folder-per-env pipeline with a PromotionTask that the API accepts through manifests:apply', async () => {
    const created = await run('stagecoach:pipeline:create', {
      project: 'shop',
      artifacts: {
        images: [{ repoURL: 'ghcr.io/acme/shop', constraint: '^1.0.0' }],
        git: [{ repoURL: appURL, commitSelectionStrategy: 'SemVer' }],
        charts: [{ repoURL: 'oci://ghcr.io/acme/charts/shop' }],
      },
      stages: ['dev', 'staging', 'prod'],
      layout: 'folder-per-env',
      gitopsRepoURL: 'https://git.example.com/acme/shop-gitops.git',
      argocdApps: { dev: 'shop-dev', prod: 'shop-prod' },
    });
    expect(created.outputs).toMatchObject({
      path: 'stagecoach/pipeline.yaml',
      warehouse: 'app',
      stages: ['dev', 'staging', 'prod'],
    });
    const written = await fs.readFile(
      path.join(created.workspacePath, 'stagecoach/pipeline.yaml'),
      'utf8',
    );
    expect(written).toBe(created.outputs.manifests);
    const docs = parseAllDocuments(written).map((d: any) => d.toJS());
    expect(docs.map(d => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Warehouse/app',
      'PromotionTask/app-deploy',
      'Stage/dev',
      'Stage/staging',
      'Stage/prod',
    ]);
    expect(docs[3].spec.requestedFreight[0].sources).toEqual({
      stages: ['dev'],
    });

    const applied = await run(
      'stagecoach:manifests:apply',
      { project: 'shop', path: created.outputs.path },
      { workspacePath: created.workspacePath },
    );
    expect(applied.outputs).toEqual({
      warehouses: ['app'],
      stages: expect.arrayContaining(['dev', 'staging', 'prod']),
      warnings: [],
    });
    const stages = await get('/projects/shop/stages');
    expect(stages.body.items.map((s: { name: string }) => s.name)).toEqual([
      'dev',
      'staging',
      'prod',
    ]);
  });

  it('pipeline:create writes a branch-per-env pipeline without a PromotionTask that the API accepts', async () => {
    const created = await run('stagecoach:pipeline:create', {
      project: 'payments',
      warehouse: 'config',
      artifacts: { git: [{ repoURL: appURL, branch: 'main' }] },
      stages: ['test', 'prod'],
      layout: 'branch-per-env',
      gitopsRepoURL: 'https://git.example.com/acme/payments-gitops.git',
      promotionTask: false,
      argocdApps: { prod: 'payments-prod' },
      path: 'deploy/pipeline.yaml',
    });
    const docs = parseAllDocuments(String(created.outputs.manifests)).map(
      (d: any) => d.toJS(),
    );
    expect(docs.map(d => d.kind)).toEqual(['Warehouse', 'Stage', 'Stage']);
    const steps = docs[2].spec.promotionTemplate.spec.steps;
    expect(steps.map((s: { uses: string }) => s.uses)).toEqual([
      'git-clone',
      'git-clear',
      'copy',
      'git-commit',
      'git-push',
      'argocd-update',
    ]);
    expect(steps[0].config.checkout).toEqual([
      { branch: 'main', path: './src' },
      { branch: 'env/prod', create: true, path: './out' },
    ]);
    const applied = await run(
      'stagecoach:manifests:apply',
      { project: 'payments', path: 'deploy/pipeline.yaml' },
      { workspacePath: created.workspacePath },
    );
    expect(applied.outputs.stages).toEqual(
      expect.arrayContaining(['test', 'prod']),
    );
  });

  it('pipeline:create writes a branch-per-env pipeline with a PromotionTask, images and charts that the API accepts', async () => {
    const created = await run('stagecoach:pipeline:create', {
      project: 'catalogue',
      artifacts: {
        images: [{ repoURL: 'ghcr.io/acme/catalogue' }],
        charts: [
          { repoURL: 'https://charts.example.com', name: 'catalogue' },
          { repoURL: 'oci://ghcr.io/acme/charts/worker' },
        ],
      },
      stages: ['qa', 'live'],
      layout: 'branch-per-env',
      gitopsRepoURL: 'https://git.example.com/acme/catalogue-gitops.git',
      envFolder: 'environments',
      argocdApps: { qa: 'catalogue-qa', live: 'catalogue-live' },
    });
    const docs = parseAllDocuments(String(created.outputs.manifests)).map(
      (d: any) => d.toJS(),
    );
    const task = docs[1];
    expect(task.kind).toBe('PromotionTask');
    expect(task.spec.steps[0].config.checkout[1]).toEqual({
      branch: 'environments/${{ vars.env }}',
      create: true,
      path: './out',
    });
    expect(task.spec.steps[2]).toEqual({
      uses: 'helm-update-chart',
      as: 'update-chart',
      config: {
        path: './src/environments/${{ vars.env }}',
        charts: [
          { repository: 'https://charts.example.com', name: 'catalogue' },
          { repository: 'oci://ghcr.io/acme/charts', name: 'worker' },
        ],
      },
    });
    const applied = await run('stagecoach:manifests:apply', {
      project: 'catalogue',
      manifests: created.outputs.manifests,
    });
    expect(applied.outputs.stages).toEqual(
      expect.arrayContaining(['qa', 'live']),
    );
  });

  it('refuses a path outside the workspace, and names bad inputs', async () => {
    await expect(
      run('stagecoach:pipeline:create', {
        project: 'shop',
        artifacts: { git: [{ repoURL: appURL }] },
        stages: ['dev'],
        layout: 'folder-per-env',
        gitopsRepoURL: 'https://git.example.com/acme/gitops.git',
        path: '../../escape.yaml',
      }),
    ).rejects.toThrow(
      'input path "../../escape.yaml" points outside the workspace',
    );
    await expect(
      run('stagecoach:pipeline:create', {
        project: 'shop',
        artifacts: { git: [{ repoURL: appURL }] },
        stages: ['dev'],
        layout: 'folder-per-env',
        gitopsRepoURL: 'https://git.example.com/acme/gitops.git',
        argocdApps: { qa: 'shop-qa' },
      }),
    ).rejects.toThrow(
      'input argocdApps names stage "qa", which is not in input stages (dev)',
    );
    await expect(
      run('stagecoach:manifests:apply', {
        project: 'shop',
        path: '/etc/passwd',
      }),
    ).rejects.toThrow(
      'input path "/etc/passwd" must be a path relative to the workspace',
    );
  });

  it('manifests:apply names the problems the API found', async () => {
    await expect(
      run('stagecoach:manifests:apply', {
        project: 'broken',
        manifests: `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: broken}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: nowhere}
      sources: {direct: true}
`,
      }),
    ).rejects.toThrow(
      /applying input manifests to project "broken" \(input project\): Stagecoach answered 400 InputError: .*\n {2}- document 1 \(Stage\/dev\), spec\.requestedFreight\[0\]\.origin/s,
    );
  });

  const flow = (alias?: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: flow}
spec:
  subscriptions:
    - git: {repoURL: ${appURL}, commitSelectionStrategy: SemVer}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: flow}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: compose-output
          as: release
          config:
            commit: \${{ commitFrom("${appURL}").id }}
            note: ${alias ?? 'none'}
`;

  it('dry runs change nothing and say what they would do', async () => {
    const applied = await run(
      'stagecoach:manifests:apply',
      {
        project: 'drydock',
        manifests: flow().replace(/namespace: flow/g, 'namespace: drydock'),
        prune: true,
      },
      { isDryRun: true },
    );
    expect(applied.outputs).toEqual({
      warehouses: ['app'],
      stages: ['dev'],
      warnings: [],
      dryRun:
        'would apply 2 documents (Warehouse/app, Stage/dev) from input manifests to project drydock with prune',
    });
    const freight = await run(
      'stagecoach:freight:create',
      {
        project: 'drydock',
        warehouse: 'app',
        commits: [{ repoURL: appURL, tag: 'v1.0.0' }],
      },
      { isDryRun: true },
    );
    expect(freight.outputs.dryRun).toBe(
      `would create freight of ${appURL} v1.0.0 from warehouse "app" (input warehouse) of project "drydock"`,
    );
    const promoted = await run(
      'stagecoach:promote',
      { project: 'drydock', stage: 'dev', origin: 'app', wait: true },
      { isDryRun: true },
    );
    expect(promoted.outputs.dryRun).toBe(
      'would promote the newest freight of warehouse "app" (input origin) into stage "dev" of project "drydock", then wait for the promotion to end',
    );
    const waited = await run(
      'stagecoach:freight:wait',
      { project: 'drydock', freight: 'x', stage: 'dev', until: 'verified' },
      { isDryRun: true },
    );
    expect(waited.outputs.dryRun).toBe(
      'would wait for freight "x" to be verified in stage "dev" of project "drydock"',
    );
    expect((await get('/projects/drydock')).status).toBe(404);
  });

  it('freight:wait finds the discovered freight, freight:create names it, promote waits for its end and outputs the commit', async () => {
    await run('stagecoach:manifests:apply', {
      project: 'flow',
      manifests: flow(),
      revision: 'r1',
    });
    const discovered = await run('stagecoach:freight:wait', {
      project: 'flow',
      warehouse: 'app',
      refresh: true,
      commits: [{ repoURL: appURL, tag: 'v1.0.0' }],
      timeoutSeconds: 600,
    });
    const sha = (
      await git(
        path.join(root, 'repos', 'app.git'),
        'rev-parse',
        'v1.0.0^{commit}',
      )
    ).trim();
    expect(discovered.outputs.freight).toMatchObject({
      commits: [
        expect.objectContaining({ repoURL: appURL, tag: 'v1.0.0', id: sha }),
      ],
    });

    const named = await run('stagecoach:freight:create', {
      project: 'flow',
      warehouse: 'app',
      commits: [{ repoURL: appURL, tag: 'v1.0.0' }],
      alias: 'first-release',
    });
    expect(named.outputs).toEqual({
      freightId: discovered.outputs.freightId,
      alias: 'first-release',
      created: false,
    });

    const promoted = await run('stagecoach:promote', {
      project: 'flow',
      stage: 'dev',
      freight: 'first-release',
      wait: true,
      timeoutSeconds: 600,
    });
    expect(promoted.outputs).toEqual({
      promotionId: expect.any(String),
      phase: 'Succeeded',
      freight: 'first-release',
      freightId: discovered.outputs.freightId,
      commit: sha,
    });
    expect(promoted.logged).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ {2}step release \(compose-output\) Succeeded/),
        `Promotion ${promoted.outputs.promotionId}: Succeeded`,
      ]),
    );
    const promotion = await get(
      `/projects/flow/promotions/${promoted.outputs.promotionId}`,
    );
    expect(promotion.body.createdBy).toBe(JANE);

    const verified = await run('stagecoach:freight:wait', {
      project: 'flow',
      freight: 'first-release',
      stage: 'dev',
      until: 'verified',
    });
    expect(verified.outputs.freight).toMatchObject({
      alias: 'first-release',
      currentlyIn: ['dev'],
      verifiedIn: ['dev'],
    });
  });

  it('promote with wait gives up after timeoutSeconds and the promotion goes on (a loopback HTTP status endpoint the promotion polls)', async () => {
    let done = false;
    const status = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ status: done ? 'done' : 'working' }));
    });
    await new Promise<void>(r => status.listen(0, '127.0.0.1', r));
    try {
      const { port } = status.address() as AddressInfo;
      await run('stagecoach:manifests:apply', {
        project: 'slow',
        manifests: `${flow()
          .replace(/namespace: flow/g, 'namespace: slow')
          .replace(
            / {8}- uses: compose-output[\s\S]*$/,
            `        - uses: http
          as: rollout
          config:
            url: http://127.0.0.1:${port}/status
            pollInterval: 1s
            successExpression: response.body.status == 'done'
`,
          )}`,
      });
      const freight = await run('stagecoach:freight:wait', {
        project: 'slow',
        warehouse: 'app',
        refresh: true,
        commits: [{ repoURL: appURL, tag: 'v1.0.0' }],
      });
      await expect(
        run('stagecoach:promote', {
          project: 'slow',
          stage: 'dev',
          freight: freight.outputs.alias,
          wait: true,
          timeoutSeconds: 2,
        }),
      ).rejects.toThrow(
        /^Promotion \S+ into stage "dev" is still (Pending|Running) after 2 s \(input timeoutSeconds\); it goes on in Stagecoach$/,
      );
      done = true;
      const arrived = await run('stagecoach:freight:wait', {
        project: 'slow',
        freight: freight.outputs.alias,
        stage: 'dev',
        until: 'current',
      });
      expect(arrived.outputs.freight).toMatchObject({ currentlyIn: ['dev'] });
    } finally {
      await new Promise(r => status.close(r));
    }
  });

  it("acts as the user running the template: one the permission policy refuses gets Stagecoach's 403", async () => {
    await expect(
      run(
        'stagecoach:promote',
        { project: 'flow', stage: 'dev', freight: 'first-release' },
        { user: MALLORY },
      ),
    ).rejects.toThrow(
      'promoting freight "first-release" (input freight) into stage "dev" (input stage) of project "flow": Stagecoach answered 403 NotAllowedError: stagecoach.promotion.create on stage dev of project flow is not allowed for you by the permission policy',
    );
    await expect(
      run(
        'stagecoach:manifests:apply',
        { project: 'flow', manifests: flow('mallory') },
        { user: MALLORY },
      ),
    ).rejects.toThrow(
      /Stagecoach answered 403 NotAllowedError: stagecoach\.manifests\.apply on .* is not allowed for you by the permission policy/,
    );
    await expect(
      run(
        'stagecoach:freight:create',
        {
          project: 'flow',
          warehouse: 'app',
          commits: [{ repoURL: appURL, tag: 'v1.0.0' }],
        },
        { user: MALLORY },
      ),
    ).rejects.toThrow(/Stagecoach answered 403/);
  });
});
