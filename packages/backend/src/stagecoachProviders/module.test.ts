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
  createVerificationProvider,
  stagecoachVerificationProvidersExtensionPoint,
} from '@stagecoach/plugin-stagecoach-node';
import {
  createBareRepo,
  GitHttpServer,
  startGitHttpServer,
} from '@stagecoach/git-server';
import stagecoachProvidersModule from './module';
import {
  PROGRESS_TEST_TIMEOUT_MS,
  stagecoachApi,
  stagecoachFeatures,
  until,
} from '../__testUtils__/stagecoachTestBackend';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * The example providers module through the real Stagecoach plugin (startTestBackend): an
 * AnalysisTemplate that names `statuspage` is accepted by the manifests API and refused there
 * with a bad config; a stage's verification measures a status page served on loopback and
 * ends Successful or Failed as the page says.
 */

/** A status page in the Statuspage format, whose indicator and components the test sets. */
interface StatusPage {
  url: string;
  indicator: string;
  components: Array<{ name: string; status: string }>;
  close(): Promise<void>;
}

async function startStatusPage(): Promise<StatusPage> {
  const server = http.createServer();
  const page: StatusPage = {
    url: '',
    indicator: 'none',
    components: [{ name: 'Card API', status: 'operational' }],
    close: () => new Promise(resolve => server.close(() => resolve())),
  };
  server.on('request', (req, res) => {
    const answer = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.url === '/api/v2/status.json') {
      answer({
        page: { name: 'Payments' },
        status: {
          indicator: page.indicator,
          description:
            page.indicator === 'none' ? 'All Systems Operational' : 'Incident',
        },
      });
    } else if (req.url === '/api/v2/components.json') {
      answer({ page: { name: 'Payments' }, components: page.components });
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  page.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return page;
}

const template = (name: string, metrics: string) => `---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: ${name}, namespace: shop}
spec:
  metrics:
${metrics}`;

const pipeline = (appURL: string, statusPage: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: shop}
spec:
  subscriptions:
    - git: {repoURL: ${appURL}, commitSelectionStrategy: SemVer}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: shop}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: compose-output
          config: {released: "yes"}
  verification:
    analysisTemplates:
      - name: payments-up
${template(
  'payments-up',
  `    - name: payments
      successCondition: result == "none"
      provider:
        statuspage: {url: "${statusPage}"}
    - name: card-api
      successCondition: result == "operational"
      provider:
        statuspage: {url: "${statusPage}/", component: Card API}
`,
)}`;

describe('the example providers module (real Stagecoach plugin, loopback status page)', () => {
  let root: string;
  let gitServer: GitHttpServer;
  let statusPage: StatusPage;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;

  beforeAll(async () => {
    root = await fs.mkdtemp(
      path.join(os.tmpdir(), 'stagecoach-providers-module-'),
    );
    const repos = path.join(root, 'repos');
    await createBareRepo(repos, 'app', [
      {
        files: { VERSION: '1.2.0\n' },
        message: 'release 1.2.0',
        tag: 'v1.2.0',
      },
    ]);
    gitServer = await startGitHttpServer({ root: repos });
    statusPage = await startStatusPage();
    backend = await startTestBackend({
      features: stagecoachFeatures(
        path.join(root, 'work'),
        stagecoachProvidersModule,
      ),
    });
  });
  afterAll(async () => {
    // the engine stops before the folder it works in goes
    await backend?.stop();
    await gitServer?.close();
    await statusPage?.close();
    await fs.rm(root, { recursive: true, force: true, maxRetries: 5 });
  });

  const { api, apply, get } = stagecoachApi(() => backend.server, 'shop');

  const FINAL = ['Successful', 'Failed', 'Error', 'Inconclusive', 'Aborted'];
  /** The stage's verification with this ID (or its newest), once it has ended. */
  const verificationEnded = (id?: string) =>
    until(
      async () => {
        const items: Array<{ id: string; phase: string }> =
          (await get('/stages/dev/verifications')).body.items ?? [];
        return id ? items.find(v => v.id === id) : items[0];
      },
      v => !!v && FINAL.includes(v.phase),
      'the verification',
    ) as Promise<any>;

  it("refuses a bad config for the module's provider with a 400 naming the field", async () => {
    const res = await apply(
      template(
        'broken',
        `    - name: payments
      provider:
        statuspage: {url: 42, colour: red}
`,
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          resource: 'AnalysisTemplate/broken',
          path: 'spec.metrics[0].provider.statuspage.url',
        }),
        expect.objectContaining({
          resource: 'AnalysisTemplate/broken',
          path: 'spec.metrics[0].provider.statuspage',
          message: expect.stringContaining('colour'),
        }),
      ]),
    );
  });

  it('names the registered providers when a metric names one Stagecoach does not run', async () => {
    const res = await apply(
      template(
        'elsewhere',
        `    - name: errors
      provider:
        datadog: {query: "sum:errors{*}"}
    - name: uptime
      provider:
        pingdom: {check: 42}
`,
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual([
      expect.objectContaining({
        path: 'spec.metrics[0].provider.datadog',
        message:
          'the datadog provider is not supported: Stagecoach runs web, prometheus, job and statuspage metrics',
      }),
      expect.objectContaining({
        path: 'spec.metrics[1].provider.pingdom',
        message:
          'unknown metric provider "pingdom": Stagecoach runs web, prometheus, job and statuspage metrics',
      }),
    ]);
  });

  it('accepts a verification that uses it, which ends Successful or Failed as the status page says', async () => {
    const applied = await apply(
      pipeline(`${gitServer.url}/app.git`, statusPage.url),
    );
    expect(applied.body.problems).toBeUndefined();
    expect(applied.status).toBe(200);

    await api(
      request(backend.server).post(
        '/api/stagecoach/projects/shop/warehouses/app/refresh',
      ),
    ).expect(202);
    const [freight] = await until(
      async (): Promise<Array<{ alias: string }>> =>
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

    // the promotion drives no Argo CD app: the stage is healthy once it succeeds, and is verified
    const passed = await verificationEnded();
    expect(passed.phase).toBe('Successful');
    expect(passed.metrics).toEqual([
      expect.objectContaining({
        name: 'payments',
        provider: 'statuspage',
        phase: 'Successful',
        measurements: [
          expect.objectContaining({
            phase: 'Successful',
            value: '"none"',
            metadata: {
              page: statusPage.url,
              description: 'All Systems Operational',
            },
          }),
        ],
      }),
      expect.objectContaining({
        name: 'card-api',
        phase: 'Successful',
        measurements: [
          expect.objectContaining({
            value: '"operational"',
            metadata: { page: statusPage.url, component: 'Card API' },
          }),
        ],
      }),
    ]);

    // an incident on the card API: verifying again fails, and says why
    statusPage.components = [{ name: 'Card API', status: 'major_outage' }];
    const again = await api(
      request(backend.server).post(
        '/api/stagecoach/projects/shop/stages/dev/verification',
      ),
    );
    expect(again.status).toBeLessThan(300);
    const failed = await verificationEnded(again.body.id);
    expect(failed.phase).toBe('Failed');
    expect(failed.message).toContain(
      'result "major_outage" did not satisfy result == "operational"',
    );
  });
});

describe('a provider name that two providers claim', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(
      path.join(os.tmpdir(), 'stagecoach-providers-clash-'),
    );
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
          deps: { providers: stagecoachVerificationProvidersExtensionPoint },
          async init({ providers }) {
            providers.addProviders(
              createVerificationProvider({
                name,
                description,
                schema: z.object({}),
                run: async ctx => ctx.measured(true),
              }),
            );
          },
        });
      },
    });

  it("fails the backend's startup, naming the module and both providers, when a built-in provider has the name", async () => {
    await expect(
      startTestBackend({
        features: stagecoachFeatures(
          path.join(root, 'builtin'),
          moduleAdding('acme-web', 'web', 'checks URLs the acme way'),
        ),
      }),
    ).rejects.toThrow(
      "Module 'acme-web' for plugin 'stagecoach' startup failed; caused by Error: cannot add the verification provider " +
        '"web" (checks URLs the acme way): the built-in provider "web" (Send an HTTP request; its JSON answer, or what a JSONPath picks from it, is the result.) has that name',
    );
  });

  it("fails the backend's startup, naming both providers, when another module's provider has the name", async () => {
    const error = await startTestBackend({
      features: stagecoachFeatures(
        path.join(root, 'modules'),
        stagecoachProvidersModule,
        moduleAdding('acme-status', 'statuspage', 'the acme status board'),
      ),
    }).catch(e => e);
    // the modules start in parallel: the one that adds the name second fails
    expect(error.message).toMatch(
      /Module '(acme-status|example-providers)' for plugin 'stagecoach' startup failed; caused by Error: cannot add the verification provider "statuspage" \(.+\): a provider added by another module, "statuspage" \(.+\), has that name/,
    );
    expect(error.message).toContain('(the acme status board)');
    expect(error.message).toContain(
      "(Read a Statuspage-format status page; the page's indicator, or a component's status, is the result.)",
    );
  });
});
