import fs from 'node:fs/promises';
import path from 'node:path';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import type { Freight, Promotion, Stage } from '@stagecoach/plugin-stagecoach-common';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import { stagecoachPlugin } from './plugin';
import { ArgoCdSimulator } from './__testUtils__/argoCdSimulator';
import { KubeApiServer, startKubeApi } from './__testUtils__/kubeApi';
import { startTestRegistry, TestRegistry } from './__testUtils__/registry';
import { PROGRESS_TEST_TIMEOUT_MS, promotionProgress, untilProgress, verificationProgress } from './__testUtils__/until';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * The manifests of Kargo's quickstart (akuity/kargo docs/docs/20-quickstart, v1.11) as a
 * Kargo user applies them: `${GITOPS_REPO_URL}`, `${GITHUB_USERNAME}` and `${GITHUB_PAT}` are
 * what the quickstart asks the user to export, filled in by the shell as the heredoc is read;
 * only the image repository is moved from public.ecr.aws to the test registry.
 */
const QUICKSTART = `apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata:
  name: kargo-demo
---
apiVersion: v1
kind: Secret
type: Opaque
metadata:
  name: kargo-demo-repo
  namespace: kargo-demo
  labels:
    kargo.akuity.io/cred-type: git
stringData:
  repoURL: \${GITOPS_REPO_URL}
  username: \${GITHUB_USERNAME}
  password: \${GITHUB_PAT}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: kargo-demo
  namespace: kargo-demo
spec:
  subscriptions:
  - image:
      repoURL: public.ecr.aws/nginx/nginx
      semverConstraint: ^1.26.0
      discoveryLimit: 5
---
apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: demo-promo-process
  namespace: kargo-demo
spec:
  vars:
  - name: gitopsRepo
    value: \${GITOPS_REPO_URL}
  - name: imageRepo
    value: public.ecr.aws/nginx/nginx
  steps:
  - uses: git-clone
    config:
      repoURL: \${{ vars.gitopsRepo }}
      checkout:
      - branch: main
        path: ./src
      - branch: stage/\${{ ctx.stage }}
        create: true
        path: ./out
  - uses: git-clear
    config:
      path: ./out
  - uses: kustomize-set-image
    as: update
    config:
      path: ./src/base
      images:
      - image: \${{ vars.imageRepo }}
        tag: \${{ imageFrom(vars.imageRepo).Tag }}
  - uses: kustomize-build
    config:
      path: ./src/stages/\${{ ctx.stage }}
      outPath: ./out
  - uses: git-commit
    as: commit
    config:
      path: ./out
      message: \${{ task.outputs.update.commitMessage }}
  - uses: git-push
    config:
      path: ./out
  - uses: argocd-update
    config:
      apps:
      - name: kargo-demo-\${{ ctx.stage }}
        sources:
        - repoURL: \${{ vars.gitopsRepo }}
          desiredRevision: \${{ task.outputs.commit.commit }}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: test
  namespace: kargo-demo
spec:
  requestedFreight:
  - origin:
      kind: Warehouse
      name: kargo-demo
    sources:
      direct: true
  promotionTemplate:
    spec:
      steps:
      - task:
          name: demo-promo-process
        as: promo-process
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: uat
  namespace: kargo-demo
spec:
  requestedFreight:
  - origin:
      kind: Warehouse
      name: kargo-demo
    sources:
      stages:
      - test
  promotionTemplate:
    spec:
      steps:
      - task:
          name: demo-promo-process
        as: promo-process
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: prod
  namespace: kargo-demo
spec:
  requestedFreight:
  - origin:
      kind: Warehouse
      name: kargo-demo
    sources:
      stages:
      - uat
  promotionTemplate:
    spec:
      steps:
      - task:
          name: demo-promo-process
        as: promo-process
`;

const PROJECT = 'kargo-demo';
const STAGES = ['test', 'uat', 'prod'];
const KUBE_TOKEN = 'kube-token-for-tests';
const GIT_USER = 'octocat';
const GIT_PAT = 'ghp_quickstartTokenForTests';

/** A GitOps repository laid out as the quickstart's fork of kargo-demo: a base and one kustomization per stage. */
function gitopsFiles(image: string): Record<string, string> {
  const files: Record<string, string> = {
    'base/kustomization.yaml': 'resources:\n- deploy.yaml\n- service.yaml\n',
    'base/deploy.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: kargo-demo
spec:
  replicas: 1
  selector:
    matchLabels: {app: kargo-demo}
  template:
    metadata:
      labels: {app: kargo-demo}
    spec:
      containers:
      - name: nginx
        image: ${image}:1.25.0
`,
    'base/service.yaml': `apiVersion: v1
kind: Service
metadata:
  name: kargo-demo
spec:
  selector: {app: kargo-demo}
  ports:
  - port: 80
`,
  };
  for (const stage of STAGES) {
    // `bases` for the folder: the kustomize in Debian's kubectl 1.20 (v2.0.3) reads only files from `resources`
    files[`stages/${stage}/kustomization.yaml`] = `namespace: kargo-demo-${stage}\nbases:\n- ../../base\nresources:\n- content.yaml\n`;
    files[`stages/${stage}/content.yaml`] = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kargo-demo-content
data:
  index.html: <h1>${stage}</h1>
`;
  }
  return files;
}

describe("Kargo's quickstart, applied unchanged, promotes test → uat → prod (real backend plugin, Git server with basic auth, git, registry and kubectl kustomize; Kubernetes API and Argo CD on loopback)", () => {
  let root: string;
  let gitServer: GitHttpServer;
  let gitopsURL: string;
  let registry: TestRegistry;
  let kube: KubeApiServer;
  let argocd: ArgoCdSimulator;
  let server: Server;
  let image: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(process.env.TMPDIR ?? '/tmp', 'stagecoach-quickstart-'));
    registry = await startTestRegistry();
    image = `${registry.host}/nginx/nginx`;
    // what the warehouse may see: 1.27.1 is the newest within ^1.26.0; 2.0.0 is outside it
    for (const tag of ['1.25.0', '1.26.0', '1.27.1', '2.0.0']) await registry.pushImage('nginx/nginx', tag, { salt: tag });

    await createBareRepo(path.join(root, 'repos'), 'kargo-demo', [{ files: gitopsFiles(image), message: 'the kargo-demo layout' }]);
    gitServer = await startGitHttpServer({ root: path.join(root, 'repos'), credentials: { username: GIT_USER, password: GIT_PAT } });
    gitopsURL = `${gitServer.url}/kargo-demo.git`;

    kube = await startKubeApi({ token: KUBE_TOKEN });
    // Argo CD resolves each app's branch (stage/<stage>) to the commit it points at when it syncs
    argocd = new ArgoCdSimulator(kube, {
      resolveRevision: source => {
        try {
          const bare = path.join(root, 'repos', 'kargo-demo.git');
          return execFileSync('git', ['rev-parse', '--verify', '-q', `refs/heads/${source.targetRevision}`], { cwd: bare, encoding: 'utf8' }).trim();
        } catch {
          return undefined; // the branch does not exist yet: the first promotion creates it
        }
      },
    });
    for (const stage of STAGES) {
      argocd.addApp({
        name: `kargo-demo-${stage}`,
        annotations: { 'kargo.akuity.io/authorized-stage': `${PROJECT}:${stage}` },
        source: { repoURL: gitopsURL, path: '.', targetRevision: `stage/${stage}` },
      });
    }
    argocd.auto();

    ({ server } = await startTestBackend({
      features: [
        stagecoachPlugin,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: {
            stagecoach: {
              workDir: path.join(root, 'work'),
              credentials: { encryptionKey: randomBytes(32).toString('base64') },
              // the test Git server is on loopback, over plain HTTP: its credentials may go there
              git: { allowInsecureCredentials: ['127.0.0.1'] },
              kubernetes: { clusters: [{ name: 'local', url: kube.url, serviceAccountToken: KUBE_TOKEN, skipTLSVerify: true }] },
              egress: { allowLoopback: true },
            },
          },
        }),
      ],
    }));
  });

  afterAll(async () => {
    argocd?.stop();
    await Promise.all([kube?.close(), registry?.close(), gitServer?.close()]);
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  const api = () => request(server);
  const asUser = (r: request.Test) => r.set('Authorization', mockCredentials.user.header('user:default/ada'));
  const base = `/api/stagecoach/projects/${PROJECT}`;
  const waitFor = <T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, progress?: (v: T) => unknown) =>
    untilProgress(read, done, what, { progress, everyMs: 100 });
  const final = (phase?: string) => !!phase && !['Pending', 'Running'].includes(phase);
  /** A file on a branch of the GitOps repository, as Argo CD would read it. */
  const show = (ref: string, file: string) => git(path.join(root, 'repos', 'kargo-demo.git'), 'show', `${ref}:${file}`);

  let freight: Freight;

  it('the manifests apply as they are, the Secret becoming a project credential that is never shown', async () => {
    const manifests = QUICKSTART.replaceAll('${GITOPS_REPO_URL}', gitopsURL)
      .replaceAll('${GITHUB_USERNAME}', GIT_USER)
      .replaceAll('${GITHUB_PAT}', GIT_PAT)
      .replaceAll('public.ecr.aws/nginx/nginx', image);
    const applied = await asUser(api().put(`${base}/manifests`)).set('Content-Type', 'application/yaml').send(manifests);
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ project: PROJECT, warehouses: ['kargo-demo'], stages: STAGES });
    expect(JSON.stringify(applied.body)).not.toContain(GIT_PAT);

    const credentials = await asUser(api().get(`${base}/credentials`));
    expect(credentials.status).toBe(200);
    expect(JSON.stringify(credentials.body)).toContain('kargo-demo-repo');
    expect(JSON.stringify(credentials.body)).not.toContain(GIT_PAT);

    expect((await asUser(api().post(`${base}/warehouses/kargo-demo/refresh`))).status).toBe(202);
    [freight] = await waitFor(
      async () => (await asUser(api().get(`${base}/freight`))).body.items as Freight[],
      items => items.length > 0,
      'discovery of the image',
    );
    expect(freight.images).toEqual([expect.objectContaining({ repoURL: image, tag: '1.27.1' })]);
  });

  it.each(STAGES)('%s: the promotion renders the stage with the discovered tag onto its stage branch, and Argo CD syncs to that commit', async stage => {
    const queued = await asUser(api().post(`${base}/stages/${stage}/promotions`)).send({ freight: freight.alias });
    expect(queued.status).toBe(202);
    const promotion = await waitFor(
      async () => (await asUser(api().get(`${base}/promotions/${queued.body.id}`))).body as Promotion,
      p => final(p.phase),
      `promotion to ${stage}`,
      promotionProgress,
    );
    expect([promotion.phase, promotion.message]).toEqual(['Succeeded', undefined]);

    // kustomize-set-image took the tag from imageFrom(...).Tag; kustomize-build rendered the stage
    const rendered = await show(`stage/${stage}`, `kargo-demo-${stage}-deployment-kargo-demo.yaml`).catch(async () => {
      const files = (await git(path.join(root, 'repos', 'kargo-demo.git'), 'ls-tree', '--name-only', `stage/${stage}`)).split('\n');
      throw new Error(`stage/${stage} holds ${files.join(', ')}`);
    });
    expect(rendered).toContain(`image: ${image}:1.27.1`);
    expect(rendered).toContain(`namespace: kargo-demo-${stage}`);
    const commit = (await git(path.join(root, 'repos', 'kargo-demo.git'), 'rev-parse', `stage/${stage}`)).trim();
    expect(await git(path.join(root, 'repos', 'kargo-demo.git'), 'log', '-1', '--format=%B', commit)).toContain(`${image}:1.27.1`);

    // argocd-update pointed the stage's app at the pushed commit
    const app = argocd.app(`kargo-demo-${stage}`)!;
    expect(app.status?.sync?.revision).toBe(commit);

    // no AnalysisTemplates: the stage is verified once its app is healthy, which lets the next stage take the freight
    await waitFor(
      async () => (await asUser(api().get(`${base}/stages/${stage}`))).body as Stage,
      s => s.verification?.promotionId === promotion.id && final(s.verification.phase),
      `verification of ${stage}`,
      s => verificationProgress(s.verification),
    );
    const f = (await asUser(api().get(`${base}/freight/${freight.alias}`))).body as Freight;
    expect(f.verifiedIn).toContain(stage);
  });
});
