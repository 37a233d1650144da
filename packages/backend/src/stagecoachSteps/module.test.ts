import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { z } from 'zod';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import {
  createPromotionStep,
  stagecoachPromotionStepsExtensionPoint,
} from '@stagecoach/plugin-stagecoach-node';
import {
  createBareRepo,
  git,
  GitHttpServer,
  startGitHttpServer,
} from '@stagecoach/git-server';
import stagecoachStepsModule from './module';
import {
  PROGRESS_TEST_TIMEOUT_MS,
  stagecoachApi,
  stagecoachFeatures,
  until,
} from '../__testUtils__/stagecoachTestBackend';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * The example module through the real Stagecoach plugin (startTestBackend) and a real Git
 * server on loopback: its step is accepted by the manifests API, refused there with a bad
 * config, and runs in a promotion between git-clone and git-push like a built-in step.
 */

const stage = (name: string, steps: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: ${name}, namespace: shop}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
${steps}`;

const pipeline = (
  appURL: string,
  gitopsURL: string,
) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: shop}
spec:
  subscriptions:
    - git: {repoURL: ${appURL}, commitSelectionStrategy: SemVer}
${stage(
  'dev',
  `        - uses: git-clone
          config:
            repoURL: ${gitopsURL}
            checkout: [{branch: main, path: ./out}]
        - uses: write-release-notes
          as: notes
          config: {path: ./out/releases/dev.md, title: "Shop in dev"}
        - uses: git-commit
          config: {path: ./out, message: Release notes for dev}
        - uses: git-push
          config: {path: ./out}
`,
)}`;

describe('the example steps module (real Stagecoach plugin, loopback Git)', () => {
  let root: string;
  let gitServer: GitHttpServer;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-steps-module-'));
    const repos = path.join(root, 'repos');
    await createBareRepo(repos, 'app', [
      {
        files: { VERSION: '1.2.0\n' },
        message: 'release 1.2.0',
        tag: 'v1.2.0',
      },
    ]);
    await createBareRepo(repos, 'gitops', [
      { files: { 'README.md': '# environments\n' }, message: 'initial' },
    ]);
    gitServer = await startGitHttpServer({ root: repos });
    backend = await startTestBackend({
      features: stagecoachFeatures(
        path.join(root, 'work'),
        stagecoachStepsModule,
      ),
    });
  });
  afterAll(async () => {
    // the engine stops before the folder its promotions work in goes
    await backend?.stop();
    await gitServer?.close();
    await fs.rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  const { api, apply, get } = stagecoachApi(() => backend.server, 'shop');

  it("refuses a bad config for the module's step with a 400 naming the field", async () => {
    const res = await apply(
      `${pipeline(
        `${gitServer.url}/app.git`,
        `${gitServer.url}/gitops.git`,
      )}${stage(
        'qa',
        '        - uses: write-release-notes\n          config: {title: 42, colour: red}\n',
      )}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.problems).toHaveLength(3);
    expect(res.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          resource: 'Stage/qa',
          path: 'spec.promotionTemplate.spec.steps[0].config',
          message: expect.stringContaining('colour'),
        }),
        expect.objectContaining({
          resource: 'Stage/qa',
          path: 'spec.promotionTemplate.spec.steps[0].config.path',
        }),
        expect.objectContaining({
          resource: 'Stage/qa',
          path: 'spec.promotionTemplate.spec.steps[0].config.title',
        }),
      ]),
    );
  });

  it('accepts a stage that uses it, and runs it in a promotion: the notes are committed and pushed', async () => {
    const applied = await apply(
      pipeline(`${gitServer.url}/app.git`, `${gitServer.url}/gitops.git`),
    );
    expect(applied.status).toBe(200);

    await api(
      request(backend.server).post(
        '/api/stagecoach/projects/shop/warehouses/app/refresh',
      ),
    ).expect(202);
    const [freight] = await until(
      async (): Promise<Array<{ alias: string; id: string }>> =>
        (await get('/freight')).body.items ?? [],
      items => items.length > 0,
      'freight from discovery',
    );
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
    const notesStep = done.steps.find(
      (s: { alias: string }) => s.alias === 'notes',
    );
    expect(notesStep).toMatchObject({
      uses: 'write-release-notes',
      status: 'Succeeded',
      message: `wrote the release notes of ${freight.alias} to ./out/releases/dev.md`,
      outputs: { path: './out/releases/dev.md', notes: expect.any(String) },
    });
    const pushed = await git(
      path.join(root, 'repos', 'gitops.git'),
      'show',
      'main:releases/dev.md',
    );
    expect(`${pushed}\n`).toBe(notesStep.outputs.notes);
    expect(pushed).toMatch(/^# Shop in dev\n/);
    expect(pushed).toContain(
      `Freight ${freight.alias} (${freight.id.slice(
        0,
        7,
      )}) from warehouse app, promoted to dev by promotion ${
        promoted.body.id
      } for user:default/jane.`,
    );
    expect(pushed).toMatch(
      new RegExp(
        `## Commits\\n\\n- ${gitServer.url}/app.git v1\\.2\\.0 [0-9a-f]{7}$`,
      ),
    );
  });
});

describe('a step name that two steps claim', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-steps-clash-'));
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  const moduleAdding = (moduleId: string, name: string, description: string) =>
    createBackendModule({
      pluginId: 'stagecoach',
      moduleId,
      register(reg) {
        reg.registerInit({
          deps: { steps: stagecoachPromotionStepsExtensionPoint },
          async init({ steps }) {
            steps.addSteps(
              createPromotionStep({
                name,
                description,
                schema: z.object({}),
                run: async () => ({ status: 'Succeeded' }),
              }),
            );
          },
        });
      },
    });

  it("fails the backend's startup, naming the module and both steps, when a built-in step has the name", async () => {
    await expect(
      startTestBackend({
        features: stagecoachFeatures(
          path.join(root, 'builtin'),
          moduleAdding('acme-files', 'file-write', 'writes files the acme way'),
        ),
      }),
    ).rejects.toThrow(
      "Module 'acme-files' for plugin 'stagecoach' startup failed; caused by Error: cannot add the promotion step " +
        '"file-write" (writes files the acme way): the built-in step "file-write" (Write text to a file in the work directory.) has that name',
    );
  });

  it("fails the backend's startup, naming both steps, when another module's step has the name", async () => {
    const error = await startTestBackend({
      features: stagecoachFeatures(
        path.join(root, 'modules'),
        stagecoachStepsModule,
        moduleAdding(
          'acme-notes',
          'write-release-notes',
          'the acme release notes',
        ),
      ),
    }).catch(e => e);
    // the modules start in parallel: the one that adds the name second fails
    expect(error.message).toMatch(
      /Module '(acme-notes|example-steps)' for plugin 'stagecoach' startup failed; caused by Error: cannot add the promotion step "write-release-notes" \(.+\): a step added by another module, "write-release-notes" \(.+\), has that name/,
    );
    expect(error.message).toContain('(the acme release notes)');
    expect(error.message).toContain(
      "(Write Markdown release notes for the promoted freight's artifacts to a file.)",
    );
  });
});
