import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import stagecoachPlugin from '@stagecoach/plugin-stagecoach-backend';
import { CliIo, runCli } from './cli';
import {
  startKargoInstallation,
  TYPES,
} from './__testUtils__/kargoInstallation';

/**
 * `stagecoach import kargo` end to end: a Kargo installation served by a loopback Kubernetes
 * API server (the real wire protocol of its list and get calls, through
 * @kubernetes/client-node and a kubeconfig), applied to the real Stagecoach backend plugin
 * (startTestBackend, on a port of its own) through the REST API.
 */

jest.setTimeout(120_000);

const USER = 'user:default/jane';

let kargo: Awaited<ReturnType<typeof startKargoInstallation>>;
let backend: { server: http.Server; stop(): Promise<void> };
let workDir: string;
let stagecoachUrl: string;

beforeAll(async () => {
  kargo = await startKargoInstallation();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-cli-work-'));
  const started = await startTestBackend({
    features: [
      stagecoachPlugin,
      catalogServiceMock.factory({ entities: [] }),
      mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
      mockServices.rootConfig.factory({
        data: {
          stagecoach: {
            workDir,
            egress: { allowLoopback: true },
            // seals the cluster scope's shared Secrets
            credentials: { encryptionKey: randomBytes(32).toString('base64') },
          },
        },
      }),
    ],
  });
  backend = { server: started.server, stop: () => started.stop() };
  stagecoachUrl = `http://127.0.0.1:${
    (started.server.address() as AddressInfo).port
  }`;
});

afterAll(async () => {
  await backend?.stop();
  await kargo?.cleanup();
  fs.rmSync(workDir, { recursive: true, force: true });
});

/** Runs the command as a user would, with its own environment; answers its exit code and output. */
async function stagecoach(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    env: { KUBECONFIG: kargo.kubeconfig, ...env },
    homeDir: workDir,
    stdout: t => (stdout += t),
    stderr: t => (stderr += t),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const withToken = { STAGECOACH_TOKEN: mockCredentials.user.token(USER) };
/** A GET of the REST API as jane: its status and JSON body. */
async function get(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${stagecoachUrl}/api/stagecoach${url}`, {
    headers: { Authorization: mockCredentials.user.header(USER) },
  });
  return { status: response.status, body: await response.json() };
}

/**
 * A Stagecoach from before the cluster scope, as a loopback HTTP server: PUT /cluster/manifests
 * answers 404 as an unknown route does; a project's apply answers 200 and is recorded.
 */
async function startOlderStagecoach() {
  const applied: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (
        req.method === 'PUT' &&
        /^\/api\/stagecoach\/projects\/[^/]+\/manifests$/.test(req.url ?? '')
      ) {
        applied.push(req.url!);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({ project: 'platform', warehouses: [], stages: [] }),
        );
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { name: 'NotFoundError', message: 'not found' },
          response: { statusCode: 404 },
        }),
      );
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    applied,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

/** The report's line for one document. */
const line = (stdout: string, resource: string) =>
  stdout
    .split('\n')
    .find(l =>
      new RegExp(`^  \\S.*\\s${resource.replace(/[/.]/g, '\\$&')}\\b`).test(l),
    );

describe('stagecoach import kargo (loopback Kubernetes API, real Stagecoach backend)', () => {
  it('--dry-run applies nothing and prints the clean manifests it would send', async () => {
    const { code, stdout } = await stagecoach([
      'import',
      'kargo',
      '--context',
      'kargo',
      '--project',
      'kargo-demo',
      '--dry-run',
      '--url',
      stagecoachUrl,
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('nothing is applied (--dry-run)');
    for (const r of [
      'ProjectConfig/kargo-demo',
      'Warehouse/kargo-demo',
      'PromotionTask/render-and-update',
      'AnalysisTemplate/smoke',
      'Stage/test',
      'Stage/uat',
      'Stage/prod',
    ]) {
      expect(line(stdout, r)).toMatch(/^ {2}would apply /);
    }
    expect(line(stdout, 'Freight/f00d')).toContain(
      'skipped      Freight/f00d: Freight history is not imported',
    );
    expect(
      line(stdout, 'Promotion/test.01j0000000000000000000000.f00d'),
    ).toContain('Promotions (history) are not imported');

    // the cluster scope's set comes first: the ClusterPromotionTasks
    expect(stdout).toMatch(
      /^cluster scope\n {2}would apply {2}ClusterPromotionTask\/standard-promote\n/m,
    );
    expect(stdout).toContain(
      'sent to PUT /api/stagecoach/cluster/manifests:\n---\napiVersion: kargo.akuity.io/v1alpha1\nkind: ClusterPromotionTask\n',
    );

    // the YAML that would be sent: manifests as written by hand, nothing the cluster added
    const projectSet = stdout.indexOf(
      'sent to PUT /api/stagecoach/projects/kargo-demo/manifests:',
    );
    expect(projectSet).toBeGreaterThan(0);
    const yaml = stdout.slice(
      stdout.indexOf('---', projectSet),
      stdout.lastIndexOf('\n\n'),
    );
    const docs = parseAllDocuments(yaml).map(d => (d as any).toJS());
    expect(docs.map(d => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ProjectConfig/kargo-demo',
      'Warehouse/kargo-demo',
      'PromotionTask/render-and-update',
      'AnalysisTemplate/smoke',
      'Stage/test',
      'Stage/uat',
      'Stage/prod',
    ]);
    for (const d of docs) {
      expect(Object.keys(d).sort()).toEqual([
        'apiVersion',
        'kind',
        'metadata',
        'spec',
      ]);
      expect(
        Object.keys(d.metadata).every(k =>
          ['name', 'labels', 'annotations'].includes(k),
        ),
      ).toBe(true);
    }
    expect(
      docs.find(d => d.kind === 'Stage' && d.metadata.name === 'prod').metadata,
    ).toEqual({
      name: 'prod',
      labels: { tier: 'production' },
    });

    // credentials: named, never their values, and never asked for
    expect(stdout).toContain(
      'Secrets labelled kargo.akuity.io/cred-type in namespace kargo-demo: kargo-demo-repo',
    );
    expect(stdout).not.toContain('unrelated');
    expect(stdout).not.toMatch(/s3cret|czNjcmV0/);
    const secretLists = kargo.api.requests.filter(
      r => r.path === '/api/v1/namespaces/kargo-demo/secrets',
    );
    expect(secretLists.length).toBeGreaterThan(0);
    for (const r of secretLists) {
      expect(r.query.get('labelSelector')).toBe('kargo.akuity.io/cred-type');
      expect(r.headers.accept).toContain('as=PartialObjectMetadataList');
    }

    // nothing reached Stagecoach
    expect((await get('/projects')).body.items).toEqual([]);
  });

  it('applies each project through the REST API: the stages exist afterwards, pre-v1.7 promotion policies become a ProjectConfig', async () => {
    const { code, stdout, stderr } = await stagecoach(
      [
        'import',
        'kargo',
        '--context',
        'kargo',
        '--project',
        'kargo-demo',
        '--project',
        'legacy',
        '--url',
        stagecoachUrl,
      ],
      withToken,
    );
    expect(stderr).toBe('');
    expect(stdout).not.toContain('refused');
    expect(code).toBe(0);
    for (const r of [
      'Warehouse/kargo-demo',
      'PromotionTask/render-and-update',
      'AnalysisTemplate/smoke',
      'Stage/test',
      'Stage/uat',
      'Stage/prod',
    ]) {
      expect(line(stdout, r)).toMatch(/^ {2}applied /);
    }
    expect(line(stdout, 'Project/kargo-demo')).toMatch(/^ {2}skipped /);
    expect(line(stdout, 'ProjectConfig/legacy')).toContain(
      'applied      ProjectConfig/legacy (from Project/legacy spec.promotionPolicies (Kargo before v1.7))',
    );
    expect(stdout).toContain(`Stagecoach: ${stagecoachUrl}`);
    expect(stdout).toMatch(/2 projects: \d+ applied, \d+ skipped\./);

    const stages = await get('/projects/kargo-demo/stages');
    expect(stages.status).toBe(200);
    expect(stages.body.items.map((s: { name: string }) => s.name)).toEqual([
      'test',
      'uat',
      'prod',
    ]);
    const test = stages.body.items.find(
      (s: { name: string }) => s.name === 'test',
    );
    expect(test.autoPromotionEnabled).toBe(true);
    const uat = stages.body.items.find(
      (s: { name: string }) => s.name === 'uat',
    );
    expect(uat.analysisTemplates).toEqual(['smoke']);
    const legacy = await get('/projects/legacy/stages');
    expect(
      legacy.body.items.map(
        (s: { name: string; autoPromotionEnabled: boolean }) => [
          s.name,
          s.autoPromotionEnabled,
        ],
      ),
    ).toEqual([['test', true]]);

    // applying the same again changes nothing and succeeds
    expect(
      (
        await stagecoach(
          [
            'import',
            'kargo',
            '--context',
            'kargo',
            '--project',
            'kargo-demo',
            '--url',
            stagecoachUrl,
          ],
          withToken,
        )
      ).code,
    ).toBe(0);
  });

  it('a refused document is reported with its resource, path and message, nothing of its project is applied, and the exit code is 1', async () => {
    const { code, stdout } = await stagecoach(
      [
        'import',
        'kargo',
        '--context',
        'kargo',
        '--project',
        'broken',
        '--url',
        stagecoachUrl,
      ],
      withToken,
    );
    expect(code).toBe(1);
    const lines = stdout.split('\n');
    const dev = lines.findIndex(l => /^ {2}refused +Stage\/dev$/.test(l));
    expect(dev).toBeGreaterThan(0);
    expect(lines[dev + 1]).toMatch(
      /^ {17}spec\.requestedFreight\[0\]\.origin\.name: names Warehouse "ap"/,
    );
    expect(line(stdout, 'Warehouse/app')).toMatch(
      /^ {2}not applied +Warehouse\/app$/,
    );
    expect((await get('/projects/broken')).status).toBe(404);
  });

  it('ClusterPromotionTasks go to the cluster scope first (PUT /cluster/manifests?merge=true), keeping what Stagecoach has there, a shared Secret included; then the stages that call them apply', async () => {
    // Stagecoach's cluster scope holds a ClusterConfig and a shared Secret, whose values it never shows (the earlier imports added the task)
    const before = await fetch(
      `${stagecoachUrl}/api/stagecoach/cluster/manifests?prune=true`,
      {
        method: 'PUT',
        headers: {
          Authorization: mockCredentials.user.header(USER),
          'Content-Type': 'application/yaml',
        },
        body:
          'apiVersion: kargo.akuity.io/v1alpha1\nkind: ClusterConfig\nmetadata: {name: cluster}\nspec:\n  gitClient: {name: Kargo, email: kargo@example.com}\n' +
          '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: notify-token\n  labels: {kargo.akuity.io/cred-type: generic}\nstringData: {token: s3cr3t}\n',
      },
    );
    expect(before.status).toBe(200);

    const { code, stdout } = await stagecoach(
      [
        'import',
        'kargo',
        '--context',
        'kargo',
        '--project',
        'platform',
        '--url',
        stagecoachUrl,
      ],
      withToken,
    );
    expect(stdout).not.toContain('refused');
    expect(code).toBe(0);
    // only Kargo's task is sent
    expect(stdout).toMatch(
      /^cluster scope\n {2}applied {6}ClusterPromotionTask\/standard-promote\n\n/m,
    );
    expect(line(stdout, 'Stage/shared')).toMatch(/^ {2}applied /);

    const scope = await get('/cluster/manifests');
    expect(
      scope.body.clusterPromotionTasks.map((t: { name: string }) => t.name),
    ).toEqual(['standard-promote']);
    expect(scope.body.clusterConfig.spec.gitClient).toEqual({
      name: 'Kargo',
      email: 'kargo@example.com',
    });
    expect(scope.body.secrets).toEqual([
      { name: 'notify-token', appliedAt: expect.any(String) },
    ]);
    const [apply] = (await get('/cluster/manifests/history?limit=1')).body
      .items;
    expect(apply).toMatchObject({ merged: true, pruned: false });
    const stage = await get('/projects/platform/stages/shared');
    expect(stage.status).toBe(200);
  });

  it('with --prune the cluster scope becomes what Kargo has: the ClusterConfig and the shared Secret Stagecoach held are removed', async () => {
    const { code } = await stagecoach(
      [
        'import',
        'kargo',
        '--context',
        'kargo',
        '--project',
        'platform',
        '--url',
        stagecoachUrl,
        '--prune',
      ],
      withToken,
    );
    expect(code).toBe(0);
    const scope = await get('/cluster/manifests');
    expect(scope.body).toEqual({
      clusterPromotionTasks: [
        expect.objectContaining({ name: 'standard-promote' }),
      ],
      lastApplied: expect.any(Object),
    });
    const [apply] = (await get('/cluster/manifests/history?limit=1')).body
      .items;
    expect(apply).toMatchObject({
      merged: false,
      pruned: true,
      changes: {
        clusterConfig: 'removed',
        secrets: { added: [], changed: [], removed: ['notify-token'] },
      },
    });
  });

  it('a Stagecoach without a cluster scope (404) gets the projects, and the ClusterPromotionTasks their stages call are reported skipped', async () => {
    const older = await startOlderStagecoach();
    try {
      const { stdout } = await stagecoach(
        [
          'import',
          'kargo',
          '--context',
          'kargo',
          '--project',
          'platform',
          '--url',
          older.url,
        ],
        withToken,
      );
      expect(stdout).not.toMatch(/^cluster scope$/m);
      expect(line(stdout, 'ClusterPromotionTask/standard-promote')).toContain(
        'skipped      ClusterPromotionTask/standard-promote: cluster-scoped kinds are not yet supported by this Stagecoach',
      );
      expect(older.applied).toEqual([
        '/api/stagecoach/projects/platform/manifests',
      ]);
    } finally {
      await older.close();
    }
  });

  it('every project by default; one it may not read is not applied, and says what RBAC it needs', async () => {
    kargo.api.deny(TYPES.promotionTasks);
    const { code, stdout } = await stagecoach(
      ['import', 'kargo', '--context', 'kargo', '--url', stagecoachUrl],
      withToken,
    ).finally(() => kargo.api.allow(TYPES.promotionTasks));
    expect(code).toBe(1);
    expect(stdout).toMatch(/^project broken$/m);
    expect(stdout).toMatch(/^project kargo-demo$/m);
    expect(stdout).toMatch(/^project legacy$/m);
    expect(stdout).toContain(
      'error: not applied: part of the project could not be read: you may not list promotiontasks.kargo.akuity.io in namespace "kargo-demo" (403 Forbidden): the import needs RBAC verbs get and list on promotiontasks.kargo.akuity.io',
    );
  });

  it('says what is wrong with the command line, the kubeconfig or the projects asked for', async () => {
    const noToken = await stagecoach([
      'import',
      'kargo',
      '--context',
      'kargo',
      '--url',
      stagecoachUrl,
    ]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain(
      'no token for Stagecoach: set STAGECOACH_TOKEN (or pass --token)',
    );

    const noContext = await stagecoach([
      'import',
      'kargo',
      '--context',
      'nope',
      '--dry-run',
    ]);
    expect(noContext.code).toBe(1);
    expect(noContext.stderr).toContain(
      'no context "nope" in the kubeconfig: it has other, kargo',
    );

    const unknown = await stagecoach([
      'import',
      'kargo',
      '--context',
      'kargo',
      '--project',
      'ghost',
      '--dry-run',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain(
      'error: no Kargo Project "ghost" in the cluster of context "kargo"',
    );

    const badToken = await stagecoach([
      'import',
      'kargo',
      '--context',
      'kargo',
      '--project',
      'legacy',
      '--url',
      stagecoachUrl,
      '--token',
      'not-a-token',
    ]);
    expect(badToken.code).toBe(1);
    expect(badToken.stdout).toContain('did not accept the token (401)');
    expect(badToken.stdout).not.toContain('not-a-token');

    const unreachable = await stagecoach([
      'import',
      'kargo',
      '--project',
      'legacy',
      '--dry-run',
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toMatch(/cannot be reached \(ECONNREFUSED\)/);

    expect(
      (await stagecoach(['import', 'kargo', '--url', 'ftp://x', '--dry-run']))
        .code,
    ).toBe(2);
    expect((await stagecoach(['import', 'kargo', '--bogus'])).code).toBe(2);
  });
});
