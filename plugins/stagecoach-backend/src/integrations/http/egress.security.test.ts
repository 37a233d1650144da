import fs from 'node:fs';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import type { Promotion } from '@stagecoach/plugin-stagecoach-common';
import type { Knex } from 'knex';
import { parse as parseYaml, stringify } from 'yaml';
import { StagecoachEngine } from '../../app';
import { httpRequest } from '../../promotion/steps/http';
import { gitClone } from '../../promotion/steps/git-clone';
import { verificationCredentials } from '../../verification/credentials';
import { prometheusProvider } from '../../verification/providers/prometheus';
import { webProvider } from '../../verification/providers/web';
import type { MeasureContext, Metric } from '../../verification/types';
import { createTestDatabases } from '../../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../../__testUtils__/gitFixture';
import {
  Handler,
  LOOPBACK_ALLOWED,
  loopbackConnectProxy,
  loopbackServer,
  LoopbackServer,
} from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { until } from '../../__testUtils__/until';
import { silentLogger } from '../../util/types';
import type { KubeClusters } from '../kubernetes/types';
import { scmCredentialsFromConfig } from '../scm/fromIntegrations';
import { DEFAULT_EGRESS_POLICY, EgressPolicy, readEgressPolicy } from './egress';

/*
 * Issue 11's findings on outbound requests, each against real HTTP servers on loopback:
 * requests that manifests name (http steps, web and prometheus metrics) pass the egress
 * policy on every hop; what a step keeps as outputs is capped; credentials go only where
 * they were configured for, and never over plain HTTP.
 */

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '../../../../..');
const appConfig = (file: string) => parseYaml(fs.readFileSync(path.join(ROOT, file), 'utf8'));
/** The demo's configuration (app-config.yaml), and production's (app-config.production.yaml on top of it). */
const DEMO_POLICY = readEgressPolicy(new ConfigReader(appConfig('app-config.yaml')));
const PRODUCTION_POLICY = readEgressPolicy(
  ConfigReader.fromConfigs([
    { context: 'app-config.yaml', data: appConfig('app-config.yaml') },
    { context: 'app-config.production.yaml', data: appConfig('app-config.production.yaml') },
  ]),
);

const servers: Array<{ close(): Promise<void> }> = [];
async function serve(handler: Handler): Promise<LoopbackServer> {
  const server = await loopbackServer(handler);
  servers.push(server);
  return server;
}
const secret: Handler = (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"AccessKeyId":"ASIA-SECRET"}');

let work: Awaited<ReturnType<typeof tempWorkDir>>;
beforeEach(async () => {
  work = await tempWorkDir();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.close()));
  await work.cleanup();
});

const httpStep = (config: Record<string, unknown>, egress: EgressPolicy) =>
  runStep(httpRequest, { timeout: '3s', ...config }, { workDir: work.dir, egress });

describe('the egress policy of the http step (loopback servers)', () => {
  it('refuses the cloud metadata address written in the URL, naming the rule, before connecting', async () => {
    await expect(httpStep({ url: 'http://169.254.169.254/latest/meta-data/iam/' }, DEFAULT_EGRESS_POLICY)).rejects.toThrow(
      'request to http://169.254.169.254/latest/meta-data/iam/ refused by the egress policy: 169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata) — see stagecoach.egress',
    );
  });

  it('refuses a host name that resolves to the metadata address, at connect time', async () => {
    const policy = new EgressPolicy({
      resolve: async name => (name === 'metadata.attacker.test' ? [{ address: '169.254.169.254', family: 4 }] : []),
    });
    await expect(httpStep({ url: 'http://metadata.attacker.test/latest/' }, policy)).rejects.toThrow(
      'request to http://metadata.attacker.test/latest/ refused by the egress policy: metadata.attacker.test resolves to 169.254.169.254, which is in the denied range 169.254.169.254/32 (cloud metadata)',
    );
    // the name Google gives its metadata server is denied by name
    await expect(httpStep({ url: 'http://metadata.google.internal./computeMetadata/v1/' }, policy)).rejects.toThrow(
      'metadata.google.internal is a denied host (cloud metadata)',
    );
  });

  it('connects to the address the policy checked: the name resolves through it', async () => {
    const server = await serve(secret);
    const port = new URL(server.url).port;
    const policy = new EgressPolicy({
      allowLoopback: true,
      resolve: async name => (name === 'app.internal.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
    });
    const result = await httpStep({ url: `http://app.internal.test:${port}/status` }, policy);
    expect(result.status).toBe('Succeeded');
    expect(server.requests.map(r => r.headers.host)).toEqual([`app.internal.test:${port}`]);
  });

  it('refuses loopback under the production config and allows it under the demo config', async () => {
    const server = await serve(secret);
    await expect(httpStep({ url: `${server.url}/admin` }, PRODUCTION_POLICY)).rejects.toThrow(
      `request to ${server.url}/admin refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback) — see stagecoach.egress`,
    );
    // by name too, whatever the case or a trailing dot
    await expect(httpStep({ url: `http://LocalHost.:${new URL(server.url).port}/admin` }, PRODUCTION_POLICY)).rejects.toThrow(
      'localhost is a denied host (loopback)',
    );
    expect(server.requests).toEqual([]);
    expect(await httpStep({ url: `${server.url}/admin` }, DEMO_POLICY)).toMatchObject({ status: 'Succeeded' });
    expect(server.requests).toHaveLength(1);
  });

  it('checks the address connected to, not only the name: a name that resolves to a denied range is refused', async () => {
    const server = await serve(secret);
    const policy = new EgressPolicy({ allowLoopback: true, deny: [{ cidr: '127.0.0.0/8' }] });
    await expect(httpStep({ url: `http://localhost:${new URL(server.url).port}/admin` }, policy)).rejects.toThrow(
      /localhost resolves to (127\.0\.0\.1|::1), which is in the denied range (127\.0\.0\.0\/8 \(stagecoach\.egress\.deny\[0\]\)|::1\/128)/,
    );
    expect(server.requests).toEqual([]);
  });

  it('refuses a redirect from an allowed host to a denied one at that hop: the denied server is never asked', async () => {
    const inner = await serve(secret);
    const innerUrl = `http://localhost:${new URL(inner.url).port}/credentials`;
    const outer = await serve((_req, res) => res.writeHead(302, { Location: innerUrl }).end());
    const policy = new EgressPolicy({ allowLoopback: true, deny: [{ host: 'localhost' }] });
    await expect(httpStep({ url: `${outer.url}/go`, outputs: [{ name: 'body', fromExpression: 'response.body' }] }, policy)).rejects.toThrow(
      `request to ${innerUrl} (redirected from ${outer.url}/go) refused by the egress policy: localhost is a denied host (stagecoach.egress.deny[0])`,
    );
    expect(outer.requests).toHaveLength(1);
    expect(inner.requests).toEqual([]);
  });

  it('refuses a redirect to the metadata address', async () => {
    const outer = await serve((_req, res) => res.writeHead(307, { Location: 'http://169.254.169.254/latest/meta-data/' }).end());
    await expect(httpStep({ url: `${outer.url}/go` }, LOOPBACK_ALLOWED)).rejects.toThrow(
      `request to http://169.254.169.254/latest/meta-data/ (redirected from ${outer.url}/go) refused by the egress policy: 169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata)`,
    );
  });

  it('refuses a proxy at a denied address: nothing is sent through it', async () => {
    const proxy = await loopbackConnectProxy();
    servers.push(proxy);
    await expect(httpStep({ url: 'https://example.com/', proxy: proxy.url }, DEFAULT_EGRESS_POLICY)).rejects.toThrow(
      `request to the proxy ${proxy.url}/ refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback)`,
    );
    expect(proxy.targets).toEqual([]);
  });
});

const measureContext = (over: Partial<MeasureContext> = {}): MeasureContext => ({
  project: 'shop',
  stage: 'prod',
  verificationId: 'v1',
  fetch: globalThis.fetch,
  kube: {} as KubeClusters,
  jobs: { namespace: 'default' },
  logger: silentLogger,
  now: () => new Date(),
  ...over,
});
const metric = (provider: Metric['provider']): Metric => ({
  name: 'check',
  count: 1,
  failureLimit: 0,
  inconclusiveLimit: 0,
  consecutiveErrorLimit: 4,
  provider,
});

describe('the egress policy of the web and prometheus metrics (loopback servers)', () => {
  it('the web metric is refused a loopback admin port under the default policy, and keeps no answer', async () => {
    const server = await serve(secret);
    const m = await webProvider.run(measureContext(), metric({ web: { url: `${server.url}/admin/keys` } }));
    expect(m).toMatchObject({
      phase: 'Error',
      message: `request to ${server.url}/admin/keys refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback) — see stagecoach.egress`,
    });
    expect(m.value).toBeUndefined();
    expect(server.requests).toEqual([]);
  });

  it('the prometheus metric is refused the metadata address and loopback', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"success","data":{"resultType":"scalar","result":[0,"1"]}}'),
    );
    const local = await prometheusProvider.run(measureContext(), metric({ prometheus: { address: server.url, query: 'up' } }));
    expect(local).toMatchObject({ phase: 'Error', message: expect.stringContaining('is in the denied range 127.0.0.0/8 (loopback)') });
    expect(server.requests).toEqual([]);
    const metadata = await prometheusProvider.run(
      measureContext(),
      metric({ prometheus: { address: 'http://169.254.169.254/', query: 'up' } }),
    );
    expect(metadata).toMatchObject({
      phase: 'Error',
      message:
        'request to http://169.254.169.254/api/v1/query refused by the egress policy: 169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata) — see stagecoach.egress',
    });
  });

  it('a measured value larger than the limit is an Error naming the limit and its key, and is not kept', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(100 * 1024) });
    const server = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(big));
    const m = await webProvider.run(measureContext({ egress: LOOPBACK_ALLOWED }), metric({ web: { url: `${server.url}/dump` } }));
    expect(m).toMatchObject({
      phase: 'Error',
      message:
        'the result is 100 KiB, more than the 64 KiB a measurement may keep (stagecoach.verification.maxResultBytes): pick the part to judge with jsonPath',
    });
    expect(m.value).toBeUndefined();
  });
});

describe('verification credentials go only under their prefix (loopback server)', () => {
  it('a path that climbs out of the prefix with .. gets no credentials; one under it does', async () => {
    const server = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
    const credentials = verificationCredentials([{ url: `${server.url}/team-a/`, headers: { Authorization: 'Bearer team-a-token' } }]);
    const ctx = measureContext({ egress: LOOPBACK_ALLOWED, credentials });
    await webProvider.run(ctx, metric({ web: { url: `${server.url}/team-a/../team-b/metrics` } }));
    await webProvider.run(ctx, metric({ web: { url: `${server.url}/team-a/%2e%2e/team-b/metrics` } }));
    await webProvider.run(ctx, metric({ web: { url: `${server.url}/team-ab/metrics` } }));
    await webProvider.run(ctx, metric({ web: { url: `${server.url}/team-a/metrics` } }));
    expect(server.requests.map(r => [r.url, r.headers.authorization])).toEqual([
      ['/team-b/metrics', undefined],
      ['/team-b/metrics', undefined],
      ['/team-ab/metrics', undefined],
      ['/team-a/metrics', 'Bearer team-a-token'],
    ]);
    // the same host under another scheme or port is another origin
    expect(credentials.headersFor(`${server.url.replace('http:', 'https:')}/team-a/x`)).toEqual([]);
    expect(credentials.headersFor(`${server.url}/team-a%2F..%2Fteam-b/x`)).toEqual([]);
    expect(credentials.headersFor(`${server.url}/team-a/..;/team-b/x`)).toEqual([]);
  });

  it('a redirect to another origin does not carry them', async () => {
    const other = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
    const otherUrl = `http://localhost:${new URL(other.url).port}/collect`;
    const first = await serve((_req, res) => res.writeHead(302, { Location: otherUrl }).end());
    const credentials = verificationCredentials([{ url: `${first.url}/`, headers: { 'X-Api-Key': 'team-a-key' } }]);
    const m = await webProvider.run(
      measureContext({ egress: LOOPBACK_ALLOWED, credentials }),
      metric({ web: { url: `${first.url}/health` } }),
    );
    expect(m.phase).toBe('Successful');
    expect(first.requests[0].headers['x-api-key']).toBe('team-a-key');
    expect(other.requests.map(r => r.headers['x-api-key'])).toEqual([undefined]);
  });
});

describe('git credentials over plain HTTP (a loopback Git host that records Authorization)', () => {
  const TOKEN = 'ghp_not-for-plain-http-1234';

  it('are not sent: the operation fails saying why, and the host never sees them', async () => {
    const host = await serve((_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end());
    const hostPort = new URL(host.url).host;
    const credentials = scmCredentialsFromConfig(new ConfigReader({ integrations: { github: [{ host: hostPort, token: TOKEN }] } }));
    await expect(
      runStep(
        gitClone,
        { repoURL: `${host.url}/acme/gitops.git`, checkout: [{ branch: 'main', path: './out' }] },
        { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials },
      ),
    ).rejects.toThrow(
      `the credentials configured for ${hostPort} (Backstage integrations) are not sent over plain HTTP (${host.url}): use an https:// URL, or list ${hostPort} in stagecoach.git.allowInsecureCredentials`,
    );
    expect(host.requests.filter(r => r.headers.authorization)).toEqual([]);
    // nor to the pull request API
    await expect(credentials.api(`${host.url}/acme/gitops`)).rejects.toThrow('are not sent over plain HTTP');
  });

  it('are sent to a host listed in stagecoach.git.allowInsecureCredentials', async () => {
    const host = await serve((_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end());
    const hostPort = new URL(host.url).host;
    const credentials = scmCredentialsFromConfig(
      new ConfigReader({
        integrations: { github: [{ host: hostPort, token: TOKEN }] },
        stagecoach: { git: { allowInsecureCredentials: [hostPort] } },
      }),
    );
    await expect(
      runStep(
        gitClone,
        { repoURL: `${host.url}/acme/gitops.git`, checkout: [{ branch: 'main', path: './out' }] },
        { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials },
      ),
    ).rejects.toThrow();
    const sent = host.requests.map(r => r.headers.authorization).filter(Boolean);
    expect(sent[0]).toBe(`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`);
  });
});

describe('step outputs are capped where the runner stores them (engine, loopback HTTP)', () => {
  const databases = createTestDatabases();
  let knex: Knex;
  let git: GitFixture;
  let engine: StagecoachEngine;
  let api: LoopbackServer;

  beforeAll(async () => {
    git = await createGitFixture();
    knex = await databases.init('SQLITE_3');
    api = await loopbackServer((req, res) => {
      const size = Number(new URL(req.url, 'http://x').searchParams.get('kib'));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ blob: 'x'.repeat(size * 1024) }));
    });
    engine = await StagecoachEngine.create({
      knex,
      logger: silentLogger,
      workDir: `${git.root}/work`,
      worker: { pollIntervalMs: 20 },
      egress: LOOPBACK_ALLOWED,
    });
    engine.start();
  });
  afterAll(async () => {
    await engine.close();
    await api.close();
    await knex.destroy();
    await git.close();
  });

  const doc = (kind: string, name: string, spec: unknown) => ({
    apiVersion: 'kargo.akuity.io/v1alpha1',
    kind,
    metadata: { name, namespace: 'capped' },
    spec,
  });
  const fetchStage = (name: string, kib: number) =>
    doc('Stage', name, {
      requestedFreight: [{ origin: { kind: 'Warehouse', name: 'app' }, sources: { direct: true } }],
      promotionTemplate: {
        spec: {
          steps: [
            {
              uses: 'http',
              as: 'fetch',
              config: { url: `${api.url}/dump?kib=${kib}`, outputs: [{ name: 'body', fromExpression: 'response.body' }] },
            },
          ],
        },
      },
    });

  async function promoted(stage: string): Promise<Promotion> {
    const [freight] = await engine.freight.list('capped');
    const { id } = await engine.promotions.promote('capped', stage, freight.alias, 'user:default/ops');
    return until(
      () => engine.promotions.get('capped', id),
      p => !['Pending', 'Running'].includes(p.phase),
      `promotion ${id} finishing`,
      { tries: 3000, everyMs: 20 },
    );
  }

  it('an http step whose outputs pass 1 MiB fails naming the step, the limit and the key, and keeps none', async () => {
    await engine.projects.applyManifests(
      'capped',
      [
        doc('Warehouse', 'app', { interval: '5m', subscriptions: [{ git: { repoURL: git.appURL, commitSelectionStrategy: 'SemVer' } }] }),
        fetchStage('big', 1536),
        fetchStage('small', 16),
      ]
        .map(d => stringify(d))
        .join('---\n'),
    );
    await engine.workers.discovery.runDue();

    const big = await promoted('big');
    expect(big.phase).toBe('Failed');
    expect(big.steps[0]).toMatchObject({
      alias: 'fetch',
      status: 'Failed',
      message:
        'the outputs of step "fetch" (http) are 1.5 MiB as JSON, more than the 1 MiB a step may keep (stagecoach.promotions.maxOutputBytes): take only what later steps need into outputs',
    });
    expect(big.steps[0].outputs ?? {}).toEqual({});

    const small = await promoted('small');
    expect(small.phase).toBe('Succeeded');
    expect((small.steps[0].outputs as { body: { blob: string } }).body.blob).toHaveLength(16 * 1024);
  });
});
