import { builtinSteps, validateStepConfig } from '.';

/**
 * Kargo's built-in promotion steps, field by field, as a Kargo v1.x user writes them in a
 * stage's steps: each field is accepted by the apply-time check, or refused with a message
 * that says what to write instead. One row per field (nested fields by path); the config of a
 * row is the step's required fields (`base`) with the row's own top-level keys over them.
 *
 * The field lists are Kargo's steps' config fields (its OSS steps' config schemas); what each
 * accepted field does is tested with the step itself (the step's own test file).
 */
type Config = Record<string, unknown>;
/** [Kargo's field, a config that uses it, and when refused: the message's pattern] */
type Row = [field: string, config: Config, refused?: RegExp];
interface StepTable {
  base: Config;
  rows: Row[];
}

const repoURL = 'https://git.example.com/acme/app.git';
const sha = '0123456789abcdef0123456789abcdef01234567';
const co = (extra: Config) => ({ checkout: [{ path: './src', ...extra }] });
const author = { name: 'Kargo Bot', email: 'bot@example.com' };
const signingKey = '-----BEGIN PGP PRIVATE KEY BLOCK-----\n...\n-----END PGP PRIVATE KEY BLOCK-----';
const app = (extra: Config) => ({ apps: [{ name: 'app-dev', ...extra }] });
const source = (extra: Config) => app({ sources: [{ repoURL, ...extra }] });
const selector = (sel: Config) => ({ apps: [{ selector: sel }] });
const expr = (op: string, values?: string[]) => selector({ matchExpressions: [{ key: 'env', operator: op, ...(values ? { values } : {}) }] });

const providers = (): Row[] => ['azure', 'bitbucket', 'gitea', 'github', 'gitlab'].map(p => [`provider: ${p}`, { provider: p }]);
/** Pull requests on Azure DevOps are not supported (yet): refused, naming the providers there are. */
const pullRequestProviders: Row[] = providers().map(([field, config]) =>
  config.provider === 'azure' ? [field, config, /^azure \(Azure DevOps\) pull requests are not supported yet; use github, gitlab, gitea or bitbucket$/] : [field, config],
);
/** Commit signing with a key (GPG) is not supported: refused, naming github-push's verified commits. */
const NO_SIGNING = /^signing commits with a key is not supported: remove signingKey \(.*github-push/;

const kargoSteps: Record<string, StepTable> = {
  'git-clone': {
    base: { repoURL, checkout: [{ branch: 'main', path: './src' }] },
    rows: [
      ['repoURL', {}],
      ['checkout[].branch', {}],
      ['checkout[].path', {}],
      ['checkout[].commit', co({ commit: sha })],
      ['checkout[].tag', co({ tag: 'v1.0.0' })],
      ['checkout[].as', co({ branch: 'main', as: 'source' })],
      ['checkout[].create', co({ branch: 'env/dev', create: true })],
      ['checkout[].sparse', co({ branch: 'main', sparse: ['apps/dev', 'base'] })],
      ['author.name, author.email', { author }],
      ['author.signingKey', { author: { ...author, signingKey } }, NO_SIGNING],
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
      ['blobless', { blobless: true }],
      ['recurseSubmodules', { recurseSubmodules: true }],
    ],
  },
  'git-clear': {
    base: { path: './out' },
    rows: [['path', {}]],
  },
  'git-commit': {
    base: { path: './out', message: 'promote' },
    rows: [
      ['path', {}],
      ['message', {}],
      ['author.name, author.email', { author }],
      ['author.signingKey', { author: { ...author, signingKey } }, NO_SIGNING],
    ],
  },
  'git-tag': {
    base: { path: './out', tag: 'v1.0.0', message: 'release v1.0.0' },
    rows: [
      ['path, tag, message', {}],
      ['force', { force: true }],
    ],
  },
  'git-push': {
    base: { path: './out' },
    rows: [
      ['path', {}],
      ['targetBranch', { targetBranch: 'env/dev' }],
      ['generateTargetBranch', { generateTargetBranch: true }],
      ['tag', { tag: 'v1.0.0' }],
      ['force', { targetBranch: 'env/dev', force: true }],
      ['maxAttempts', { maxAttempts: 5 }],
      ...providers(),
    ],
  },
  'github-push': {
    base: { path: './out' },
    rows: [
      ['path', {}],
      ['targetBranch', { targetBranch: 'env/dev' }],
      ['generateTargetBranch', { generateTargetBranch: true }],
      ['force', { force: true }],
      ['maxAttempts', { maxAttempts: 5 }],
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
    ],
  },
  'git-open-pr': {
    base: { repoURL, sourceBranch: 'stagecoach/promo', targetBranch: 'main' },
    rows: [
      ['repoURL, sourceBranch, targetBranch', {}],
      ['title', { title: 'Promote to dev' }],
      ['description', { description: 'What changed' }],
      ['labels', { labels: ['promotion', 'dev'] }],
      ...pullRequestProviders,
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
      // deprecated in Kargo; accepted, and ignored with a warning in the promotion's log
      ['createTargetBranch', { createTargetBranch: true }],
    ],
  },
  'git-wait-for-pr': {
    base: { repoURL, prNumber: 42 },
    rows: [
      ['repoURL, prNumber', {}],
      ['pollInterval', { pollInterval: '45s' }],
      ...pullRequestProviders,
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
    ],
  },
  'git-merge-pr': {
    base: { repoURL, prNumber: 42 },
    rows: [
      ['repoURL, prNumber', {}],
      ...pullRequestProviders,
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
      ['wait', { wait: true }],
      ['pollInterval', { wait: true, pollInterval: '1m' }],
      ['mergeMethod', { mergeMethod: 'squash' }],
    ],
  },
  copy: {
    base: { inPath: './src/base', outPath: './out/base' },
    rows: [
      ['inPath, outPath', {}],
      ['ignore', { ignore: '*.md\n!README.md' }],
    ],
  },
  delete: {
    base: { path: './out/old' },
    rows: [
      ['path', {}],
      ['paths', { path: undefined, paths: ['./out/a', './out/b'] }],
      ['pathsAreGlobs', { path: undefined, paths: ['./out/**/*.tmp'], pathsAreGlobs: true }],
      ['strict', { strict: true }],
    ],
  },
  'file-write': {
    base: { path: './out/values.yaml', contents: 'replicas: 2\n' },
    rows: [
      ['path, contents', {}],
      ['permissions', { permissions: '0644' }],
      ['overwrite', { overwrite: true }],
    ],
  },
  tar: {
    base: { inPath: './out', outPath: './bundle.tar' },
    rows: [
      ['inPath, outPath', {}],
      ['ignore', { ignore: '*.tmp' }],
      ['gzip', { gzip: true }],
    ],
  },
  untar: {
    base: { inPath: './bundle.tar.gz', outPath: './unpacked' },
    rows: [
      ['inPath, outPath', {}],
      ['stripComponents', { stripComponents: 1 }],
      ['ignore', { ignore: '*.md' }],
    ],
  },
  'json-parse': {
    base: { path: './src/config.json', outputs: [{ name: 'tag', fromExpression: 'image.tag' }] },
    rows: [['path, outputs[].name, outputs[].fromExpression', {}]],
  },
  'yaml-parse': {
    base: { path: './src/values.yaml', outputs: [{ name: 'tag', fromExpression: 'image.tag' }] },
    rows: [['path, outputs[].name, outputs[].fromExpression', {}]],
  },
  'toml-parse': {
    base: { path: './src/config.toml', outputs: [{ name: 'tag', fromExpression: 'image.tag' }] },
    rows: [['path, outputs[].name, outputs[].fromExpression', {}]],
  },
  'json-update': {
    base: { path: './src/config.json', updates: [{ key: 'image.tag', value: 'v2' }] },
    rows: [
      ['path, updates[].key, updates[].value (text)', {}],
      ['updates[].value (number, boolean, object, list, null)', { updates: [1, true, { a: 1 }, ['x'], null].map((value, i) => ({ key: `k${i}`, value })) }],
    ],
  },
  'yaml-update': {
    base: { path: './src/values.yaml', updates: [{ key: 'image.tag', value: 'v2' }] },
    rows: [
      ['path, updates[].key, updates[].value (text)', {}],
      ['updates[].value (number, boolean, object, list, null)', { updates: [1, true, { a: 1 }, ['x'], null].map((value, i) => ({ key: `k${i}`, value })) }],
    ],
  },
  'toml-update': {
    base: { path: './src/config.toml', updates: [{ key: 'image.tag', value: 'v2' }] },
    rows: [
      ['path, updates[].key, updates[].value (text)', {}],
      ['updates[].value (number, boolean, object, list)', { updates: [1, true, { a: 1 }, ['x']].map((value, i) => ({ key: `k${i}`, value })) }],
    ],
  },
  'yaml-merge': {
    base: { inFiles: ['./src/base.yaml', './src/dev.yaml'], outFile: './out/values.yaml' },
    rows: [
      ['inFiles, outFile', {}],
      ['ignoreMissingFiles', { ignoreMissingFiles: true }],
    ],
  },
  'helm-update-chart': {
    base: { path: './src/chart' },
    rows: [
      ['path (charts omitted: dependency update)', {}],
      ['charts[].repository, charts[].name, charts[].version', { charts: [{ repository: 'https://charts.example.com', name: 'redis', version: '18.1.0' }] }],
      ['charts[] of an oci:// repository', { charts: [{ repository: 'oci://ghcr.io/acme/charts', name: 'api', version: '1.2.3' }] }],
    ],
  },
  'helm-template': {
    base: { path: './src/chart', outPath: './out/manifests.yaml', releaseName: 'app' },
    rows: [
      ['path, outPath, releaseName', {}],
      ['outLayout: helm', { outPath: './out', outLayout: 'helm' }],
      ['outLayout: flat', { outPath: './out', outLayout: 'flat' }],
      ['useReleaseName', { outPath: './out', outLayout: 'helm', useReleaseName: true }],
      ['namespace', { namespace: 'dev' }],
      ['valuesFiles', { valuesFiles: ['./src/values-dev.yaml'] }],
      ['ignoreMissingValueFiles', { valuesFiles: ['./src/values-dev.yaml'], ignoreMissingValueFiles: true }],
      ['setValues[].key, setValues[].value', { setValues: [{ key: 'image.tag', value: 'v2' }] }],
      ['setValues[].literal', { setValues: [{ key: 'annotations.a', value: 'x,y', literal: true }] }],
      ['buildDependencies', { buildDependencies: true }],
      ['includeCRDs', { includeCRDs: true }],
      ['disableHooks', { disableHooks: true }],
      ['skipTests', { skipTests: true }],
      ['kubeVersion', { kubeVersion: '1.29.0' }],
      ['apiVersions', { apiVersions: ['monitoring.coreos.com/v1'] }],
    ],
  },
  'kustomize-set-image': {
    base: { path: './out' },
    rows: [
      ['path (images omitted: every image of the freight)', {}],
      ['images[].image (tag from the freight)', { images: [{ image: 'ghcr.io/acme/api' }] }],
      ['images[].tag', { images: [{ image: 'ghcr.io/acme/api', tag: 'v2' }] }],
      ['images[].digest', { images: [{ image: 'ghcr.io/acme/api', digest: `sha256:${'a'.repeat(64)}` }] }],
      ['images[].name', { images: [{ image: 'ghcr.io/acme/api', name: 'api', tag: 'v2' }] }],
      ['images[].newName', { images: [{ image: 'ghcr.io/acme/api', newName: 'mirror.example.com/api', tag: 'v2' }] }],
    ],
  },
  'kustomize-build': {
    base: { path: './src/overlays/dev', outPath: './out/dev.yaml' },
    rows: [
      ['path, outPath', {}],
      ['outputFormat: kargo', { outPath: './out/dev', outputFormat: 'kargo' }],
      ['outputFormat: kustomize', { outPath: './out/dev', outputFormat: 'kustomize' }],
      ['plugin.helm.kubeVersion', { plugin: { helm: { kubeVersion: '1.29.0' } } }],
      ['plugin.helm.apiVersions', { plugin: { helm: { apiVersions: ['monitoring.coreos.com/v1'] } } }],
    ],
  },
  'argocd-update': {
    base: app({}),
    rows: [
      ['apps[].name (sources omitted: sync only)', {}],
      ['apps[].namespace', app({ namespace: 'argocd' })],
      ['apps[].selector.matchLabels', selector({ matchLabels: { env: 'dev' } })],
      ['apps[].selector.matchExpressions[] In', expr('In', ['dev', 'test'])],
      ['apps[].selector.matchExpressions[] NotIn', expr('NotIn', ['prod'])],
      ['apps[].selector.matchExpressions[] Exists', expr('Exists')],
      ['apps[].selector.matchExpressions[] DoesNotExist', expr('DoesNotExist')],
      ['apps[].sources[].repoURL', source({})],
      ['apps[].sources[].chart', app({ sources: [{ repoURL: 'https://charts.example.com', chart: 'api', desiredRevision: '1.2.3' }] })],
      ['apps[].sources[].desiredRevision', source({ desiredRevision: sha })],
      ['apps[].sources[].updateTargetRevision', source({ desiredRevision: sha, updateTargetRevision: true })],
      ['apps[].sources[].helm.images[].key, value', source({ helm: { images: [{ key: 'image.tag', value: 'v2' }] } })],
      ['apps[].sources[].kustomize.images[].repoURL, tag', source({ kustomize: { images: [{ repoURL: 'ghcr.io/acme/api', tag: 'v2' }] } })],
      ['apps[].sources[].kustomize.images[].digest', source({ kustomize: { images: [{ repoURL: 'ghcr.io/acme/api', digest: `sha256:${'a'.repeat(64)}` }] } })],
      ['apps[].sources[].kustomize.images[].newName', source({ kustomize: { images: [{ repoURL: 'ghcr.io/acme/api', newName: 'mirror.example.com/api', tag: 'v2' }] } })],
    ],
  },
  'argocd-wait': {
    base: app({}),
    rows: [
      ['apps[].name', {}],
      ['apps[].namespace', app({ namespace: 'argocd' })],
      ['apps[].selector.matchLabels', selector({ matchLabels: { env: 'dev' } })],
      ['apps[].selector.matchExpressions[] In', expr('In', ['dev'])],
      ['apps[].selector.matchExpressions[] Exists', expr('Exists')],
      ...['health', 'sync', 'operation', 'suspended', 'degraded'].map((w): Row => [`apps[].waitFor: ${w}`, app({ waitFor: [w] })]),
    ],
  },
  http: {
    base: { url: 'https://api.example.com/deploys' },
    rows: [
      ['url', {}],
      ['method', { method: 'POST' }],
      ['headers[].name, value', { headers: [{ name: 'Authorization', value: 'Bearer x' }] }],
      ['queryParams[].name, value', { queryParams: [{ name: 'env', value: 'dev' }] }],
      ['body', { method: 'POST', body: '{"env": "dev"}' }],
      ['bodyFromFile', { method: 'POST', bodyFromFile: './out/payload.json' }],
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
      ['proxy', { proxy: 'http://proxy.example.com:3128' }],
      ['timeout', { timeout: '30s' }],
      ['pollInterval', { pollInterval: '1m' }],
      ['responseContentType', { responseContentType: 'application/json' }],
      ['outputs[].name, fromExpression', { outputs: [{ name: 'id', fromExpression: 'response.body.id' }] }],
      ['successExpression', { successExpression: 'response.status == 200' }],
      ['failureExpression', { failureExpression: 'response.status >= 500' }],
      ['errorExpression', { errorExpression: 'response.status == 400' }],
    ],
  },
  'http-download': {
    base: { url: 'https://downloads.example.com/app.tgz', outPath: './app.tgz' },
    rows: [
      ['url, outPath', {}],
      ['allowOverwrite', { allowOverwrite: true }],
      ['headers[].name, value', { headers: [{ name: 'Authorization', value: 'Bearer x' }] }],
      ['queryParams[].name, value', { queryParams: [{ name: 'v', value: '2' }] }],
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
      ['timeout', { timeout: '2m' }],
    ],
  },
  'oci-download': {
    base: { imageRef: 'ghcr.io/acme/charts/api:1.2.3', outPath: './api.tgz' },
    rows: [
      ['imageRef, outPath', {}],
      ['allowOverwrite', { allowOverwrite: true }],
      ['mediaType', { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip' }],
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
    ],
  },
  'oci-push': {
    base: { srcRef: 'ghcr.io/acme/api:v2', destRef: 'registry.example.com/acme/api:v2' },
    rows: [
      ['srcRef, destRef', {}],
      ['annotations', { annotations: { 'org.opencontainers.image.source': repoURL } }],
      ['insecureSkipTLSVerify', { insecureSkipTLSVerify: true }],
    ],
  },
  'set-freight-alias': {
    base: { name: 'f0123456789abcdef0123456789abcdef01234567', alias: 'release-candidate' },
    rows: [['name, alias', {}]],
  },
  'set-metadata': {
    base: { updates: [{ kind: 'Stage', name: 'dev', values: { deployedBy: 'ci' } }] },
    rows: [
      ['updates[].kind: Stage, name, values', {}],
      ['updates[].kind: Freight', { updates: [{ kind: 'Freight', name: 'f0123', values: { checked: true } }] }],
    ],
  },
  'compose-output': {
    base: {},
    rows: [['any keys', { prURL: 'https://git.example.com/pr/1', count: 2, nested: { a: [1] } }]],
  },
  fail: {
    base: {},
    rows: [
      ['(no message)', {}],
      ['message', { message: 'not on Fridays' }],
    ],
  },
};

/**
 * Fields of Kargo v1.0–v1.4 that later versions dropped (their values now come from
 * expressions such as commitFrom(), imageFrom() and outputs): a manifest written for those
 * versions still holds them.
 */
const origin = { kind: 'Warehouse', name: 'app' };
const olderKargoFields: Record<string, StepTable> = {
  'git-clone': {
    base: kargoSteps['git-clone'].base,
    rows: [
      ['checkout[].fromFreight (v1.0–v1.2)', co({ fromFreight: true })],
      ['checkout[].fromOrigin (v1.0–v1.2)', co({ fromFreight: true, fromOrigin: origin })],
    ],
  },
  'git-commit': {
    base: { path: './out' },
    rows: [['messageFromSteps (v1.0–v1.4)', { messageFromSteps: ['update-image'] }]],
  },
  'git-open-pr': {
    base: { repoURL, targetBranch: 'main' },
    rows: [['sourceBranchFromStep (v1.0–v1.2)', { sourceBranchFromStep: 'push' }]],
  },
  'git-wait-for-pr': {
    base: { repoURL },
    rows: [['prNumberFromStep (v1.0–v1.2)', { prNumberFromStep: 'open-pr' }]],
  },
  'helm-update-chart': {
    base: { path: './src/chart' },
    rows: [['charts[].fromOrigin (v1.0–v1.2)', { charts: [{ repository: 'https://charts.example.com', name: 'redis', fromOrigin: origin }] }]],
  },
  'kustomize-set-image': {
    base: { path: './out' },
    rows: [
      ['images[].useDigest (v1.0–v1.2)', { images: [{ image: 'ghcr.io/acme/api', useDigest: true }] }],
      ['images[].fromOrigin (v1.0–v1.2)', { images: [{ image: 'ghcr.io/acme/api', fromOrigin: origin }] }],
    ],
  },
  'helm-update-image': {
    base: { path: './src/values.yaml', images: [{ image: 'ghcr.io/acme/api', key: 'image.tag', value: 'Tag' }] },
    rows: [
      ['path, images[].image, key, value (the step, removed in v1.3)', {}],
      ['images[].fromOrigin', { images: [{ image: 'ghcr.io/acme/api', key: 'image.tag', value: 'Digest', fromOrigin: origin }] }],
    ],
  },
  'argocd-update': {
    base: app({}),
    rows: [
      ['fromOrigin (v1.0–v1.2)', { ...app({}), fromOrigin: origin }],
      ['apps[].fromOrigin', app({ fromOrigin: origin })],
      ['apps[].sources[].fromOrigin', source({ fromOrigin: origin, desiredCommitFromStep: 'commit' })],
      ['apps[].sources[].desiredCommitFromStep', source({ desiredCommitFromStep: 'commit', updateTargetRevision: true })],
      ['apps[].sources[].helm.images[].repoURL (value: Tag, Digest, ImageAndTag, ImageAndDigest)', source({ helm: { images: ['Tag', 'Digest', 'ImageAndTag', 'ImageAndDigest'].map(value => ({ key: `image.${value}`, repoURL: 'ghcr.io/acme/api', value })) } })],
      ['apps[].sources[].helm.fromOrigin, helm.images[].fromOrigin', source({ helm: { fromOrigin: origin, images: [{ key: 'image.tag', repoURL: 'ghcr.io/acme/api', value: 'Tag', fromOrigin: origin }] } })],
      ['apps[].sources[].kustomize.images[].useDigest', source({ kustomize: { images: [{ repoURL: 'ghcr.io/acme/api', useDigest: true }] } })],
      ['apps[].sources[].kustomize.images[] with neither (tag from the freight)', source({ kustomize: { images: [{ repoURL: 'ghcr.io/acme/api' }] } })],
      ['apps[].sources[].kustomize.fromOrigin, kustomize.images[].fromOrigin', source({ kustomize: { fromOrigin: origin, images: [{ repoURL: 'ghcr.io/acme/api', fromOrigin: origin }] } })],
    ],
  },
};

/** Kargo's OSS steps with a config schema (helm-update-image was removed in Kargo v1.3; Stagecoach still runs it). */
const KARGO_OSS_STEPS = [
  'argocd-update', 'argocd-wait', 'compose-output', 'copy', 'delete', 'fail', 'file-write', 'git-clear', 'git-clone',
  'git-commit', 'git-merge-pr', 'git-open-pr', 'git-push', 'git-tag', 'git-wait-for-pr', 'github-push', 'helm-template',
  'helm-update-chart', 'http', 'http-download', 'json-parse', 'json-update', 'kustomize-build', 'kustomize-set-image',
  'oci-download', 'oci-push', 'set-freight-alias', 'set-metadata', 'tar', 'toml-parse', 'toml-update', 'untar',
  'yaml-merge', 'yaml-parse', 'yaml-update',
];

/** Steps only Kargo Enterprise runs (its step reference pages marked so): refused saying so, and what to do instead. */
const KARGO_ENTERPRISE_STEPS = [
  'get-user-input', 'gh-create-issue', 'gh-issue-add-comment', 'gh-issue-delete-comment', 'gh-issue-update-comment',
  'gh-search-issues', 'gh-update-issue', 'gh-wait-for-issue-state', 'gha-dispatch-workflow', 'gha-wait-for-workflow',
  'hcl-update', 'jfrog-evidence', 'jira', 'record-audit-event', 'send-message', 'snow-create', 'snow-delete',
  'snow-query-for-records', 'snow-update', 'snow-wait-for-condition', 'tf-apply', 'tf-output', 'tf-plan', 'wait-for-approval',
];

function withoutUndefined(config: Config): Config {
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
}

/** What the apply-time check answers for a row: nothing, or the one refusal. */
const expectedProblems = (refused?: RegExp) => (refused ? [{ path: expect.any(Array), message: expect.stringMatching(refused) }] : []);

describe("Kargo's promotion steps, field by field", () => {
  it('has a table for every Kargo OSS step, and every Kargo OSS step is a built-in step', () => {
    expect(Object.keys(kargoSteps).sort()).toEqual([...KARGO_OSS_STEPS].sort());
    expect(KARGO_OSS_STEPS.filter(s => !builtinSteps.has(s))).toEqual([]);
  });

  describe.each(Object.entries(kargoSteps))('%s', (uses, { base, rows }) => {
    it.each(rows.map(([field, fragment, refused]) => ({ field, fragment, refused })))('$field', ({ fragment, refused }) => {
      expect(validateStepConfig(uses, withoutUndefined({ ...base, ...fragment }))).toEqual(expectedProblems(refused));
    });
  });

  it.each(KARGO_ENTERPRISE_STEPS)('%s (Kargo Enterprise) is refused saying so, and what to do instead', uses => {
    expect(validateStepConfig(uses, {})).toEqual([
      {
        path: ['uses'],
        message: expect.stringMatching(
          new RegExp(`^"${uses}" is a Kargo Enterprise step, which Stagecoach does not have: .+; or a backend module can add a step of that name \\(stagecoachPromotionStepsExtensionPoint`),
        ),
      },
    ]);
  });
  it('names the alternative where there is one', () => {
    expect(validateStepConfig('send-message', {})[0].message).toMatch(/an http step can post to a chat or mail webhook/);
    expect(validateStepConfig('wait-for-approval', {})[0].message).toMatch(/leave auto-promotion off for the stage/);
    // an unknown name is still listed against the known steps
    expect(validateStepConfig('git-clonee', {})[0].message).toMatch(/^unknown step "git-clonee" \(known: git-clone, /);
  });

  describe.each(Object.entries(olderKargoFields))('%s, as older Kargo versions wrote it', (uses, { base, rows }) => {
    it.each(rows.map(([field, fragment, refused]) => ({ field, fragment, refused })))('$field', ({ fragment, refused }) => {
      expect(validateStepConfig(uses, withoutUndefined({ ...base, ...fragment }))).toEqual(expectedProblems(refused));
    });
  });
});
