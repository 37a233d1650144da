import { PROGRESS_TEST_TIMEOUT_MS, untilPromotionEnds } from '../__testUtils__/until';
import { randomBytes } from 'node:crypto';
import type { Promotion } from '@stagecoach/plugin-stagecoach-common';
import { Knex } from 'knex';
import { StagecoachEngine } from './StagecoachEngine';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { silentLogger } from '../util/types';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/*
 * Kargo's configMap(), secret(), sharedConfigMap() and sharedSecret() through the engine: a
 * project's ConfigMaps and generic Secrets, the cluster scope's, a promotion that writes their
 * values into a file of a real Git repository (loopback Git server), and where a Secret's
 * value must never show: step outputs, messages, the apply history.
 */

const TOKEN = 's3cr3t-token-value';
const SHARED_KEY = 'shared-key-value-42';

const projectSet = (git: GitFixture, steps: string, extra = '') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
    - git:
        repoURL: ${git.appURL}
        commitSelectionStrategy: SemVer
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  url: https://api.example.com
  replicas: "3"
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  labels:
    kargo.akuity.io/cred-type: generic
stringData:
  token: ${TOKEN}
${extra}---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
${steps}`;

const clusterSet = `apiVersion: kargo.akuity.io/v1alpha1
kind: ClusterConfig
metadata:
  name: cluster
spec: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: global
data:
  region: eu-west-1
---
apiVersion: v1
kind: Secret
metadata:
  name: shared-creds
  labels:
    kargo.akuity.io/cred-type: generic
data:
  key: ${Buffer.from(SHARED_KEY).toString('base64')}
`;

describe('configMap(), secret() and the shared variants (real Git on loopback)', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex,
        logger: silentLogger,
        workDir: `${git.root}/work`,
        projectCredentials: { encryptionKey: randomBytes(32).toString('base64') },
        worker: { concurrency: 1, pollIntervalMs: 20 },
      });
      engine.start();
      await engine.cluster.apply(clusterSet);
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    async function promoted(project: string, yaml: string): Promise<Promotion> {
      await engine.projects.applyManifests(project, yaml);
      await engine.workers.discovery.runDue();
      const [freight] = await engine.freight.list(project);
      const { id } = await engine.promotions.promote(project, 'dev', freight.alias, 'user:default/ops');
      return untilPromotionEnds(() => engine.promotions.get(project, id), `promotion ${id}`);
    }

    it('writes the values into a file that is committed and pushed, and keeps Secret values out of outputs', async () => {
      const steps = `        - uses: git-clone
          config:
            repoURL: ${git.gitopsURL}
            checkout:
              - branch: main
                path: ./out
        - uses: file-write
          config:
            path: ./out/env/dev/settings.txt
            contents: "\${{ configMap('settings', 'url') }} \${{ configMap('settings').replicas }} \${{ secret('creds', 'token') }} \${{ sharedConfigMap('global', 'region') }} \${{ sharedSecret('shared-creds').key }}"
        - uses: compose-output
          as: out
          config:
            url: \${{ configMap('settings', 'url') }}
            token: \${{ secret('creds', 'token') }}
            bearer: Bearer \${{ sharedSecret('shared-creds', 'key') }}
        - uses: git-commit
          config:
            path: ./out
            message: settings for ${databaseId}
        - uses: git-push
          config:
            path: ./out
`;
      const p = await promoted('data', projectSet(git, steps));
      expect(p.message ?? '').toBe('');
      expect(p.phase).toBe('Succeeded');
      expect(await git.show('gitops', 'main', 'env/dev/settings.txt')).toBe(`https://api.example.com 3 ${TOKEN} eu-west-1 ${SHARED_KEY}`);
      // outputs are stored and shown to every reader of the promotion: Secret values are not
      expect(p.steps.find(s => s.alias === 'out')?.outputs).toEqual({ url: 'https://api.example.com', token: '***', bearer: 'Bearer ***' });
      expect(JSON.stringify(p)).not.toContain(TOKEN);
      expect(JSON.stringify(p)).not.toContain(SHARED_KEY);
    });

    it('fails a step on a missing ConfigMap, Secret or key, naming what there is and never a value', async () => {
      const step = (expr: string) => `        - uses: compose-output
          as: out
          config:
            value: \${{ ${expr} }}
`;
      const cases: [string, string][] = [
        [`configMap('nope')`, `configMap("nope"): the project has no ConfigMap "nope" (it has: settings)`],
        [`configMap('settings', 'nope')`, `configMap("settings", "nope"): ConfigMap "settings" has no key "nope" (its keys: replicas, url)`],
        [`secret('nope')`, `secret("nope"): the project has no generic Secret "nope" (it has: creds)`],
        [`secret('creds', 'nope')`, `secret("creds", "nope"): generic Secret "creds" has no key "nope" (its keys: token)`],
        [`sharedConfigMap('settings')`, `sharedConfigMap("settings"): the cluster scope has no ConfigMap "settings" (it has: global)`],
        [`sharedSecret('creds', 'token')`, `sharedSecret("creds"): the cluster scope has no generic Secret "creds" (it has: shared-creds)`],
      ];
      for (const [expr, message] of cases) {
        const p = await promoted('missing', projectSet(git, step(expr)));
        expect(p.phase).toBe('Failed');
        expect(p.message).toBe(`step "out" failed: in "${expr}": ${message}`);
      }
      // a value that breaks an expression is not repeated in its error
      const p = await promoted('missing', projectSet(git, step(`int(secret('creds', 'token'))`)));
      expect(p.phase).toBe('Failed');
      expect(p.message).not.toContain(TOKEN);
    });

    it('gives verification arguments the ConfigMaps, and refuses Secrets there', async () => {
      const verified = (arg: string) => `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: check
spec:
  args:
    - name: url
  metrics:
    - name: up
      provider:
        web:
          url: "{{args.url}}"
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
    - git:
        repoURL: ${git.appURL}
        commitSelectionStrategy: SemVer
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  url: https://api.example.com
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  labels:
    kargo.akuity.io/cred-type: generic
stringData:
  token: ${TOKEN}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: compose-output
          config: {a: b}
  verification:
    analysisTemplates: [{name: check}]
    args:
      - name: url
        value: ${arg}
`;
      const verificationOf = async (project: string, arg: string) => {
        const p = await promoted(project, verified(arg));
        expect(p.phase).toBe('Succeeded');
        return (await engine.verifications.list(project, 'dev'))[0];
      };
      const ok = await verificationOf('verify-cm', `"\${{ configMap('settings', 'url') }}/health?region=\${{ sharedConfigMap('global', 'region') }}"`);
      expect(ok.args).toEqual({ url: 'https://api.example.com/health?region=eu-west-1' });
      const refused = await verificationOf('verify-secret', `"\${{ secret('creds', 'token') }}"`);
      expect(refused.phase).toBe('Error');
      expect(refused.message).toContain('secret() is not available in verification arguments');
      expect(JSON.stringify(refused)).not.toContain(TOKEN);
    });

    it('keeps ConfigMaps as project data (no longer skipped), and the apply history holds no Secret value', async () => {
      const steps = `        - uses: compose-output
          config: {a: b}
`;
      const first = await engine.projects.applyManifests('history', projectSet(git, steps));
      expect(first.configMaps).toEqual(['settings']);
      expect(first.warnings ?? []).toEqual([]);
      // a changed Secret value changes neither the digest nor anything but the credential's name in the record
      const changed = await engine.projects.applyManifests('history', projectSet(git, steps).replace(TOKEN, 'another-token-value'));
      expect(changed.credentials).toEqual(['creds']);
      const [last, before] = await engine.projects.manifestHistory('history');
      expect(last.digest).toBe(before.digest);
      expect(last.changes.credentials).toEqual({ added: [], changed: ['creds'], removed: [] });
      // a ConfigMap's values are not secret: changing one changes the digest, and the record names it
      const cm = await engine.projects.applyManifests('history', projectSet(git, steps).replace('replicas: "3"', 'replicas: "4"'));
      expect(cm.configMaps).toEqual(['settings']);
      const [third] = await engine.projects.manifestHistory('history');
      expect(third.changes.configMaps).toEqual({ added: [], changed: ['settings'], removed: [] });
      expect(third.digest).not.toBe(last.digest);
      const history = JSON.stringify(await engine.projects.manifestHistory('history'));
      for (const value of [TOKEN, 'another-token-value', 'https://api.example.com']) expect(history).not.toContain(value);
      const cluster = JSON.stringify([await engine.cluster.get(), await engine.cluster.history()]);
      expect(cluster).not.toContain(SHARED_KEY);
      expect(cluster).not.toContain(Buffer.from(SHARED_KEY).toString('base64'));
      // removing a ConfigMap needs prune, as removing a stage does
      const without = projectSet(git, steps).replace(/---\napiVersion: v1\nkind: ConfigMap[\s\S]*?replicas: "3"\n/, '');
      await expect(engine.projects.applyManifests('history', without)).rejects.toThrow(/would remove ConfigMaps settings/);
      await expect(engine.projects.applyManifests('history', without, { prune: true })).resolves.toMatchObject({ project: 'history' });
    });

    it('refuses a ConfigMap value that is not text, binaryData, and a shared git credential', async () => {
      const bad = projectSet(git, '        - uses: compose-output\n          config: {a: b}\n', `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: typed
data:
  count: 3
binaryData:
  blob: AAAA
`);
      await expect(engine.projects.applyManifests('bad', bad)).rejects.toMatchObject({
        problems: [
          expect.objectContaining({ resource: 'ConfigMap/typed', path: 'data.count', message: expect.stringContaining('must be text') }),
          expect.objectContaining({ resource: 'ConfigMap/typed', path: 'binaryData' }),
        ],
      });
      const gitCredential = `${clusterSet}---
apiVersion: v1
kind: Secret
metadata:
  name: repo
  labels:
    kargo.akuity.io/cred-type: git
stringData:
  repoURL: https://git.example.com/x.git
  username: u
  password: p
`;
      await expect(engine.cluster.apply(gitCredential)).rejects.toMatchObject({
        problems: [expect.objectContaining({ resource: 'Secret/repo', message: expect.stringContaining('generic Secrets only') })],
      });
    });
  });
});
