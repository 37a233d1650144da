import { manifestExtensions } from '../app/manifestExtensions';
import { parseManifests as parseWith } from './parseManifests';
import { ManifestValidationError } from './ManifestValidationError';
import { manifestDigest } from './manifestDigest';

/** The documents of a Kargo project besides its pipeline: Project, credential Secrets, and the kinds Stagecoach skips. */
const parse = (text: string, project = 'kargo-demo') => parseWith(project, text, manifestExtensions());

function problemsOf(text: string, project = 'kargo-demo') {
  try {
    parse(text, project);
  } catch (e) {
    if (e instanceof ManifestValidationError) return e.problems;
    throw e;
  }
  throw new Error('expected problems');
}

const project = (name = 'kargo-demo', spec = '') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata:
  name: ${name}
${spec}`;

const secret = (name: string, labels: string, body: string) => `apiVersion: v1
kind: Secret
type: Opaque
metadata:
  name: ${name}
  namespace: kargo-demo
${labels ? `  labels:\n${labels}` : ''}
${body}`;

const gitSecret = secret(
  'kargo-demo-repo',
  '    kargo.akuity.io/cred-type: git\n',
  'stringData:\n  repoURL: https://github.com/acme/kargo-demo.git\n  username: octocat\n  password: ghp_s3cret-token\n',
);

const warehouse = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: kargo-demo
  namespace: kargo-demo
spec:
  subscriptions:
  - git:
      repoURL: https://github.com/acme/kargo-demo.git
`;

const stage = `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: test
  namespace: kargo-demo
spec:
  requestedFreight:
  - origin: {kind: Warehouse, name: kargo-demo}
    sources: {direct: true}
`;

describe("Kargo's other documents", () => {
  it("reads the quickstart's header: the Project, its git credential and its pipeline", () => {
    const m = parse([project(), gitSecret, warehouse, stage].join('---\n'));
    expect(m.warehouses.map(w => w.name)).toEqual(['kargo-demo']);
    expect(m.credentials).toEqual([
      {
        name: 'kargo-demo-repo',
        document: 2,
        type: 'git',
        repoURL: 'https://github.com/acme/kargo-demo.git',
        username: 'octocat',
        password: 'ghp_s3cret-token',
      },
    ]);
    expect(m.warnings).toEqual([]);
  });

  it('refuses a Project named after another project, naming the field', () => {
    expect(problemsOf([project('other'), warehouse].join('---\n'))).toEqual([
      { document: 1, resource: 'Project/other', path: 'metadata.name', message: 'is "other" but the manifests are applied to project "kargo-demo"' },
    ]);
  });

  it("reads a Project's old promotionPolicies as the ProjectConfig's, and refuses them beside a ProjectConfig's own", () => {
    const policies = 'spec:\n  promotionPolicies:\n  - stage: test\n    autoPromotionEnabled: true\n';
    const m = parse([project('kargo-demo', policies), warehouse, stage].join('---\n'));
    expect(m.projectConfig).toEqual({ promotionPolicies: [{ stage: 'test', autoPromotionEnabled: true }] });

    const config = `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: kargo-demo
spec:
  promotionPolicies:
  - stage: test
`;
    expect(problemsOf([project('kargo-demo', policies), config, warehouse, stage].join('---\n'))).toEqual([
      expect.objectContaining({ document: 1, path: 'spec.promotionPolicies', message: expect.stringMatching(/ProjectConfig\/kargo-demo \(document 2\).*Kargo v1\.7/) }),
    ]);
    expect(problemsOf([project('kargo-demo', 'spec:\n  other: 1\n'), warehouse].join('---\n'))).toEqual([
      expect.objectContaining({ document: 1, path: 'spec.other' }),
    ]);
  });

  it('reads base64 data and stringData (which wins), regex repoURLs and generic credentials', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const image = secret(
      'ghcr',
      '    kargo.akuity.io/cred-type: image\n',
      `data:\n  repoURL: ${b64('ghcr.io/acme/.*')}\n  repoURLIsRegex: ${b64('true')}\n  username: ${b64('bot')}\n  password: ${b64('old')}\nstringData:\n  password: new\n`,
    );
    const generic = secret('slack', '    kargo.akuity.io/cred-type: generic\n', 'stringData:\n  token: xoxb-1\n  channel: "#deploys"\n');
    const m = parse([image, generic, warehouse].join('---\n'));
    expect(m.credentials).toEqual([
      { name: 'ghcr', document: 1, type: 'image', repoURL: 'ghcr.io/acme/.*', repoURLIsRegex: true, username: 'bot', password: 'new' },
      { name: 'slack', document: 2, type: 'generic', data: { token: 'xoxb-1', channel: '#deploys' } },
    ]);
  });

  it('names what is wrong with a credential Secret by key, never repeating a value', () => {
    const bad = secret(
      'bad',
      '    kargo.akuity.io/cred-type: git\n',
      'data:\n  password: "not base64 hunter2!"\nstringData:\n  repoURL: "(unclosed"\n  repoURLIsRegex: "yes"\n  sshPrivateKey: hunter2-key\n',
    );
    const wrongType = secret('odd', '    kargo.akuity.io/cred-type: ssh\n', 'stringData:\n  password: hunter2\n');
    const problems = problemsOf([bad, wrongType, warehouse].join('---\n'));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ document: 1, resource: 'Secret/bad', path: 'data.password', message: expect.stringMatching(/must be base64/) }),
        expect.objectContaining({ document: 1, path: 'stringData.repoURLIsRegex', message: 'must be "true" or "false"' }),
        expect.objectContaining({ document: 1, path: 'stringData.sshPrivateKey', message: expect.stringMatching(/SSH keys are not supported/) }),
        expect.objectContaining({ document: 1, path: 'stringData.username' }),
        expect.objectContaining({ document: 2, resource: 'Secret/odd', path: 'metadata.labels["kargo.akuity.io/cred-type"]', message: 'must be git, helm, image or generic' }),
      ]),
    );
    expect(JSON.stringify(problems)).not.toMatch(/hunter2/);
  });

  it('skips, with a warning, the kinds it does not read and Secrets that are not credentials; still refuses Kargo typos', () => {
    const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kargo-demo\n';
    const app = 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: kargo-demo-test\n  namespace: argocd\nspec: {}\n';
    const binding = 'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: devs\n';
    const plain = secret('tls', '', 'stringData:\n  tls.key: hunter2\n');
    const m = parse([namespace, app, binding, plain, warehouse].join('---\n'));
    expect(m.warnings).toEqual([
      { document: 1, resource: 'Namespace/kargo-demo', message: expect.stringMatching(/^v1 Namespace is not a document Stagecoach reads, so it was skipped: the project is/) },
      { document: 2, resource: 'Application/kargo-demo-test', message: expect.stringMatching(/Argo CD's Applications/) },
      { document: 3, resource: 'RoleBinding/devs', message: expect.stringMatching(/permission policy/) },
      { document: 4, resource: 'Secret/tls', message: expect.stringMatching(/no label kargo.akuity.io\/cred-type/) },
    ]);
    expect(m.credentials).toEqual([]);
    expect(problemsOf([warehouse, 'apiVersion: kargo.akuity.io/v1alpha1\nkind: Stag\nmetadata:\n  name: x\n'].join('---\n'))).toEqual([
      expect.objectContaining({ document: 2, path: 'kind' }),
    ]);
  });

  it("digests a set with Secrets without their values, and any other set as sent", () => {
    const one = [project(), gitSecret, warehouse].join('---\n');
    const other = one.replace('ghp_s3cret-token', 'ghp_another');
    expect(manifestDigest(one)).toBe(manifestDigest(other));
    expect(manifestDigest(one)).not.toBe(manifestDigest(one.replace('name: kargo-demo\n  namespace', 'name: other\n  namespace')));
    expect(manifestDigest(warehouse)).toBe(`sha256:${require('node:crypto').createHash('sha256').update(warehouse).digest('hex')}`);
  });
});
