import { stringify } from 'yaml';
import { manifestExtensions } from '../app/manifestExtensions';
import { parseClusterManifests } from './clusterManifests';
import { ManifestValidationError } from './ManifestValidationError';
import { parseManifests } from './parseManifests';

/**
 * Kargo's documents, field by field, as a Kargo v1.x user writes them: every field of the
 * specs of Warehouse, Stage, PromotionTask, ProjectConfig, Project, ClusterConfig and
 * ClusterPromotionTask (Kargo's API types, v1.0 to v1.11), and the Argo Rollouts
 * AnalysisTemplate fields Kargo users write, is accepted when applied, or refused with a
 * message that says what to write instead. One row per field; a row's patch is merged into
 * the kind's base document (a list replaces the base's, undefined removes a key). What each
 * accepted field does is tested where it is used (discovery, stages, verification, ...).
 */
type Doc = { [key: string]: unknown };
/** [Kargo's field, a patch of the base document that uses it, and when refused: where and why] */
type Row = [field: string, patch: Doc, refused?: { path: string; message: RegExp }];
interface KindTable {
  /** The document the rows patch (its apiVersion, kind and metadata included). */
  base: Doc;
  rows: Row[];
  /** Cluster kinds are applied as the cluster scope's set, the others as a project's. */
  cluster?: boolean;
}

const PROJECT = 'demo';
const repoURL = 'https://git.example.com/acme/app.git';
const kargo = (kind: string, name: string, spec: Doc): Doc => ({ apiVersion: 'kargo.akuity.io/v1alpha1', kind, metadata: { name }, spec });

function merge(base: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch) || !base || typeof base !== 'object' || Array.isArray(base)) return patch;
  const out: Doc = { ...(base as Doc) };
  for (const [k, v] of Object.entries(patch as Doc)) {
    if (v === undefined) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

/** The documents every project row is applied beside: what its references name. */
const neighbours: Doc[] = [
  kargo('Warehouse', 'app', { subscriptions: [{ git: { repoURL } }] }),
  kargo('Stage', 'test', { requestedFreight: [{ origin: { kind: 'Warehouse', name: 'app' }, sources: { direct: true } }] }),
  kargo('PromotionTask', 'publish', { steps: [{ uses: 'fail', config: { message: 'published' } }] }),
  {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 'health' },
    spec: { metrics: [{ name: 'up', provider: { web: { url: 'https://status.example.com/health', jsonPath: '{$.ok}' } }, successCondition: 'result == true' }] },
  },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hook' }, stringData: { secret: 'a-webhook-secret' } },
  {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ClusterAnalysisTemplate',
    metadata: { name: 'shared-health' },
    spec: { metrics: [{ name: 'up', provider: { web: { url: 'https://status.example.com/health', jsonPath: '{$.ok}' } }, successCondition: 'result == true' }] },
  },
];

/** The cluster scope's tasks, which a stage may call with kind: ClusterPromotionTask. */
const clusterTasks = new Map([['notify', { steps: [{ uses: 'fail', config: { message: 'notified' } }] }]]);

// ---------------------------------------------------------------------------------------
// Warehouse

const sub = (s: Doc): Doc => ({ spec: { subscriptions: [s] } });
const git = (g: Doc) => sub({ git: { repoURL, ...g } });
const image = (i: Doc) => sub({ image: { repoURL: 'ghcr.io/acme/api', ...i } });
const chart = (c: Doc) => sub({ chart: { repoURL: 'https://charts.example.com', name: 'api', ...c } });

const warehouse: KindTable = {
  base: kargo('Warehouse', 'api', { subscriptions: [{ git: { repoURL } }] }),
  rows: [
    ['metadata.labels, metadata.annotations', { metadata: { labels: { team: 'a' }, annotations: { note: 'x' } } }],
    ['spec.shard (accepted, ignored: replicas share one queue)', { spec: { shard: 'east' } }],
    ['spec.interval', { spec: { interval: '10m' } }],
    ['spec.freightCreationPolicy: Automatic', { spec: { freightCreationPolicy: 'Automatic' } }],
    ['spec.freightCreationPolicy: Manual', { spec: { freightCreationPolicy: 'Manual' } }],
    ['spec.freightCreationCriteria.expression', { spec: { freightCreationCriteria: { expression: `commitFrom("${repoURL}").Tag != ""` } } }],
    ['subscriptions[].git.repoURL', git({})],
    ['subscriptions[].git.branch', git({ branch: 'main' })],
    ...['NewestFromBranch', 'SemVer', 'Lexical', 'NewestTag'].map((s): Row => [`subscriptions[].git.commitSelectionStrategy: ${s}`, git({ commitSelectionStrategy: s })]),
    ['subscriptions[].git.semverConstraint', git({ commitSelectionStrategy: 'SemVer', semverConstraint: '^1.0.0' })],
    ['subscriptions[].git.strictSemvers', git({ commitSelectionStrategy: 'SemVer', strictSemvers: false })],
    ['subscriptions[].git.allowTagsRegexes', git({ commitSelectionStrategy: 'Lexical', allowTagsRegexes: ['^v'] })],
    ['subscriptions[].git.ignoreTagsRegexes', git({ commitSelectionStrategy: 'Lexical', ignoreTagsRegexes: ['-rc'] })],
    [
      'subscriptions[].git.allowTags (deprecated)',
      git({ commitSelectionStrategy: 'Lexical', allowTags: '^v' }),
      { path: 'spec.subscriptions[0].git.allowTags', message: /^allowTags is deprecated in Kargo .*write allowTagsRegexes/ },
    ],
    [
      'subscriptions[].git.ignoreTags (deprecated)',
      git({ commitSelectionStrategy: 'Lexical', ignoreTags: ['v0'] }),
      { path: 'spec.subscriptions[0].git.ignoreTags', message: /^ignoreTags is deprecated in Kargo .*write ignoreTagsRegexes/ },
    ],
    ['subscriptions[].git.expressionFilter', git({ expressionFilter: 'author != "bot"' })],
    ['subscriptions[].git.includePaths', git({ includePaths: ['apps/api'] })],
    ['subscriptions[].git.excludePaths', git({ excludePaths: ['glob:**/*.md'] })],
    ['subscriptions[].git.since', git({ since: '2026-01-01T00:00:00Z' })],
    ['subscriptions[].git.discoveryLimit', git({ discoveryLimit: 10 })],
    ['subscriptions[].git.insecureSkipTLSVerify', git({ insecureSkipTLSVerify: true })],
    ['subscriptions[].git.blobless', git({ blobless: true })],
    ['subscriptions[].image.repoURL', image({})],
    ...['SemVer', 'Lexical', 'Digest', 'NewestBuild'].map((s): Row => [
      `subscriptions[].image.imageSelectionStrategy: ${s}`,
      image({ imageSelectionStrategy: s, ...(s === 'Digest' ? { constraint: 'stable' } : {}) }),
    ]),
    ['subscriptions[].image.constraint', image({ constraint: '^1.2.0' })],
    ['subscriptions[].image.semverConstraint (v1.0–v1.8, read as constraint)', image({ semverConstraint: '^1.2.0' })],
    ['subscriptions[].image.strictSemvers', image({ strictSemvers: true })],
    ['subscriptions[].image.allowTagsRegexes', image({ allowTagsRegexes: ['^1\\.'] })],
    ['subscriptions[].image.ignoreTagsRegexes', image({ ignoreTagsRegexes: ['-debug$'] })],
    [
      'subscriptions[].image.allowTags (deprecated)',
      image({ allowTags: '^1' }),
      { path: 'spec.subscriptions[0].image.allowTags', message: /^allowTags is deprecated in Kargo .*write allowTagsRegexes/ },
    ],
    [
      'subscriptions[].image.ignoreTags (deprecated)',
      image({ ignoreTags: ['latest'] }),
      { path: 'spec.subscriptions[0].image.ignoreTags', message: /^ignoreTags is deprecated in Kargo .*write ignoreTagsRegexes/ },
    ],
    ['subscriptions[].image.platform', image({ platform: 'linux/arm64' })],
    ['subscriptions[].image.discoveryLimit', image({ discoveryLimit: 5 })],
    ['subscriptions[].image.cacheByTag', image({ cacheByTag: true })],
    ['subscriptions[].image.insecureSkipTLSVerify', image({ insecureSkipTLSVerify: true })],
    ['subscriptions[].image.gitRepoURL (v1.0–v1.6)', image({ gitRepoURL: repoURL })],
    ['subscriptions[].chart.repoURL, name', chart({})],
    ['subscriptions[].chart.repoURL of an oci:// chart', sub({ chart: { repoURL: 'oci://ghcr.io/acme/charts/api' } })],
    ['subscriptions[].chart.semverConstraint', chart({ semverConstraint: '~1.4' })],
    ['subscriptions[].chart.discoveryLimit', chart({ discoveryLimit: 3 })],
    ['subscriptions[].chart.insecureSkipTLSVerify', chart({ insecureSkipTLSVerify: true })],
    ['subscriptions[].name', sub({ name: 'source', git: { repoURL } })],
    [
      'subscriptions[].subscription (generic subscribers, v1.9+)',
      sub({ subscription: { subscriptionType: 's3', name: 'bucket', config: { bucket: 'releases' } } }),
      {
        path: 'spec.subscriptions[0].subscription',
        message: /^"subscription" is not a subscription kind of this backend, which has git, image or chart; a backend module can add a kind/,
      },
    ],
  ],
};

// ---------------------------------------------------------------------------------------
// Stage

const sources = (s: Doc): Doc => ({ spec: { requestedFreight: [{ origin: { kind: 'Warehouse', name: 'app' }, sources: s }] } });
const steps = (...s: Doc[]): Doc => ({ spec: { promotionTemplate: { spec: { steps: s } } } });
const failStep = (extra: Doc = {}): Doc => ({ uses: 'fail', config: { message: 'stop' }, ...extra });
const verification = (v: Doc): Doc => ({ spec: { verification: { analysisTemplates: [{ name: 'health' }], ...v } } });

const stage: KindTable = {
  base: kargo('Stage', 'dev', { requestedFreight: [{ origin: { kind: 'Warehouse', name: 'app' }, sources: { direct: true } }] }),
  rows: [
    ['metadata.labels, metadata.annotations', { metadata: { labels: { tier: 'dev' }, annotations: { 'kargo.akuity.io/argocd-context': '[]' } } }],
    ['spec.shard (accepted, ignored)', { spec: { shard: 'east' } }],
    ['spec.vars[].name, value', { spec: { vars: [{ name: 'env', value: 'dev' }] } }],
    ['spec.requestedFreight[].origin.kind, name; sources.direct', {}],
    ['spec.requestedFreight[].sources.stages', sources({ stages: ['test'] })],
    ['spec.requestedFreight[].sources.requiredSoakTime', sources({ stages: ['test'], requiredSoakTime: '1h30m' })],
    ['spec.requestedFreight[].sources.availabilityStrategy: OneOf', sources({ stages: ['test'], availabilityStrategy: 'OneOf' })],
    ['spec.requestedFreight[].sources.availabilityStrategy: All', sources({ stages: ['test'], availabilityStrategy: 'All' })],
    ['spec.requestedFreight[].sources.autoPromotionOptions.selectionPolicy: NewestFreight', sources({ direct: true, autoPromotionOptions: { selectionPolicy: 'NewestFreight' } })],
    ['spec.requestedFreight[].sources.autoPromotionOptions.selectionPolicy: MatchUpstream', sources({ stages: ['test'], autoPromotionOptions: { selectionPolicy: 'MatchUpstream' } })],
    ['spec.promotionTemplate.spec.vars[].name, value', { spec: { promotionTemplate: { spec: { vars: [{ name: 'branch', value: 'env/dev' }], steps: [failStep()] } } } }],
    ['spec.promotionTemplate.spec.steps[].uses, config', steps(failStep())],
    ['spec.promotionTemplate.spec.steps[].as', steps(failStep({ as: 'stop' }))],
    ['spec.promotionTemplate.spec.steps[].if', steps(failStep({ if: '${{ always() }}' }))],
    ['spec.promotionTemplate.spec.steps[].continueOnError', steps(failStep({ continueOnError: true }))],
    ['spec.promotionTemplate.spec.steps[].retry.errorThreshold, timeout', steps(failStep({ retry: { errorThreshold: 3, timeout: '10m' } }))],
    ['spec.promotionTemplate.spec.steps[].vars[].name, value', steps(failStep({ vars: [{ name: 'why', value: 'checks' }] }))],
    ['spec.promotionTemplate.spec.steps[].task.name (kind defaults to PromotionTask)', steps({ task: { name: 'publish' }, as: 'pub' })],
    ['spec.promotionTemplate.spec.steps[].task.kind: PromotionTask', steps({ task: { name: 'publish', kind: 'PromotionTask' } })],
    ['spec.promotionTemplate.spec.steps[].task.kind: ClusterPromotionTask', steps({ task: { name: 'notify', kind: 'ClusterPromotionTask' } })],
    ['spec.verification.analysisTemplates[].name', verification({})],
    ['spec.verification.analysisTemplates[].kind: AnalysisTemplate', verification({ analysisTemplates: [{ name: 'health', kind: 'AnalysisTemplate' }] })],
    ['spec.verification.analysisTemplates[].kind: ClusterAnalysisTemplate', verification({ analysisTemplates: [{ name: 'shared-health', kind: 'ClusterAnalysisTemplate' }] })],
    ['spec.verification.analysisRunMetadata.labels, annotations', verification({ analysisRunMetadata: { labels: { team: 'a' }, annotations: { note: 'x' } } })],
    ['spec.verification.args[].name, value', verification({ args: [{ name: 'env', value: '${{ ctx.stage }}' }] })],
  ],
};

// ---------------------------------------------------------------------------------------
// PromotionTask and ClusterPromotionTask: the same spec

const taskSteps = (...s: Doc[]): Doc => ({ spec: { steps: s } });
const taskRows = (): Row[] => [
  ['spec.vars[].name, value', { spec: { vars: [{ name: 'branch', value: 'main' }] } }],
  ['spec.vars[].name without a value (an input the calling step gives)', { spec: { vars: [{ name: 'env' }] } }],
  ['spec.steps[].uses, config', {}],
  ['spec.steps[].as', taskSteps(failStep({ as: 'stop' }))],
  ['spec.steps[].if', taskSteps(failStep({ if: '${{ success() }}' }))],
  ['spec.steps[].continueOnError', taskSteps(failStep({ continueOnError: true }))],
  ['spec.steps[].retry.errorThreshold, timeout', taskSteps(failStep({ retry: { errorThreshold: 2, timeout: '5m' } }))],
  ['spec.steps[].vars[].name, value', taskSteps(failStep({ vars: [{ name: 'why', value: 'x' }] }))],
  [
    'spec.steps[].task (a task calling a task: Kargo expands one level only)',
    taskSteps({ task: { name: 'publish' } }),
    { path: 'spec.steps[0].task', message: /^a task's steps run steps \(uses\), not other tasks: .*call both tasks from the stage$/ },
  ],
];

const promotionTask: KindTable = { base: kargo('PromotionTask', 'deploy', { steps: [failStep()] }), rows: taskRows() };
const clusterPromotionTask: KindTable = {
  base: kargo('ClusterPromotionTask', 'deploy', { steps: [failStep()] }),
  rows: taskRows(),
  cluster: true,
};

// ---------------------------------------------------------------------------------------
// ProjectConfig, Project and ClusterConfig

const policy = (p: Doc): Doc => ({ spec: { promotionPolicies: [p] } });
const link = { title: 'Build', url: 'https://ci.example.com/${{ ctx.project }}', description: 'its CI run', if: '${{ true }}' };

const receiver = (provider: string, extra: Doc = {}): Doc => ({ spec: { webhookReceivers: [{ name: `on-${provider}`, [provider]: { secretRef: { name: 'hook' }, ...extra } }] } });

const projectConfig: KindTable = {
  base: kargo('ProjectConfig', PROJECT, {}),
  rows: [
    ['spec.promotionPolicies[].stage, autoPromotionEnabled', policy({ stage: 'test', autoPromotionEnabled: true })],
    ['spec.promotionPolicies[].stageSelector.name (exact)', policy({ stageSelector: { name: 'test' }, autoPromotionEnabled: true })],
    ['spec.promotionPolicies[].stageSelector.name (regex:, glob:)', { spec: { promotionPolicies: [{ stageSelector: { name: 'regex:^te' } }, { stageSelector: { name: 'glob:t*' } }] } }],
    ['spec.promotionPolicies[].stageSelector.matchLabels', policy({ stageSelector: { matchLabels: { tier: 'dev' } }, autoPromotionEnabled: true })],
    ['spec.promotionPolicies[].stageSelector.matchExpressions', policy({ stageSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }] } })],
    [
      'spec.promotionPolicies[].autoRollback (Kargo Enterprise)',
      policy({ stage: 'test', autoRollback: { onVerification: ['Failed'] } }),
      { path: 'spec.promotionPolicies[0].autoRollback', message: /^automatic rollback is a Kargo Enterprise feature that Stagecoach does not have: remove autoRollback/ },
    ],
    ['spec.freightLinks[].title, url, description, if', { spec: { freightLinks: [link] } }],
    ['spec.stageLinks[].title, url, description, if', { spec: { stageLinks: [link] } }],
    ...['github', 'gitlab', 'gitea', 'bitbucket', 'dockerhub', 'quay', 'harbor'].map((p): Row => [`spec.webhookReceivers[].name, ${p}.secretRef.name`, receiver(p)]),
    ...(
      [
        ['artifactory', { virtualRepoName: 'docker-virtual' }, /^Artifactory receivers are not supported: use a generic receiver in app-config \(stagecoach\.webhooks\.receivers/],
        ['azure', {}, /^Azure receivers are not supported: use a generic receiver in app-config/],
        ['generic', { actions: [{ action: 'Refresh', whenExpression: 'true', targetSelectionCriteria: [{ kind: 'Warehouse', name: 'app' }] }] }, /^a project's generic receiver .* is not supported: use a generic receiver in app-config/],
      ] as const
    ).map(([p, extra, message]): Row => [
      `spec.webhookReceivers[].${p}${Object.keys(extra).length ? ` (with ${Object.keys(extra).join(', ')})` : ''}`,
      receiver(p, extra),
      { path: `spec.webhookReceivers[0].${p}`, message },
    ]),
    [
      'spec.promotionWindows (Kargo Enterprise)',
      { spec: { promotionWindows: [{ name: 'weekdays', kind: 'allow', rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', dtstart: '2026-01-01T09:00:00Z', dtend: '2026-01-01T17:00:00Z' }] } },
      { path: 'spec.promotionWindows', message: /^promotion windows are a Kargo Enterprise feature that Stagecoach does not enforce/ },
    ],
  ],
};

const project: KindTable = {
  base: kargo('Project', PROJECT, {}),
  rows: [
    ['(no spec)', { spec: undefined }],
    ['spec.promotionPolicies[].stage, autoPromotionEnabled (before v1.5)', { spec: { promotionPolicies: [{ stage: 'test', autoPromotionEnabled: true }] } }],
  ],
};

const clusterConfig: KindTable = {
  base: kargo('ClusterConfig', 'cluster', {}),
  cluster: true,
  rows: [
    ['spec.gitClient.name, email', { spec: { gitClient: { name: 'Kargo', email: 'kargo@example.com' } } }],
    [
      'spec.webhookReceivers',
      { spec: { webhookReceivers: [{ name: 'gh', github: { secretRef: { name: 'hook' } } }] } },
      { path: 'spec.webhookReceivers', message: /^Stagecoach's webhook receivers are configured in app-config \(stagecoach\.webhooks\.receivers/ },
    ],
    [
      'spec.gitClient.signingKeySecret',
      { spec: { gitClient: { name: 'Kargo', email: 'kargo@example.com', signingKeySecret: { name: 'gpg' } } } },
      { path: 'spec.gitClient.signingKeySecret', message: /sign/ },
    ],
    ['spec.freightLinks[].title, url, description, if', { spec: { freightLinks: [link] } }],
    ['spec.stageLinks[].title, url, description, if', { spec: { stageLinks: [link] } }],
    [
      'spec.promotionWindows (Kargo Enterprise)',
      { spec: { promotionWindows: [{ name: 'weekdays', kind: 'allow', rrule: 'FREQ=WEEKLY;BYDAY=MO' }] } },
      { path: 'spec.promotionWindows', message: /^promotion windows are a Kargo Enterprise feature that Stagecoach does not enforce/ },
    ],
  ],
};

// ---------------------------------------------------------------------------------------
// Argo Rollouts AnalysisTemplate (argoproj.io/v1alpha1), as Kargo's verification reads it

const web = { web: { url: 'https://status.example.com/health', jsonPath: '{$.ok}' } };
const metric = (m: Doc): Doc => ({ spec: { metrics: [{ name: 'up', provider: web, successCondition: 'result == true', ...m }] } });
const arg = (a: Doc): Doc => ({ spec: { args: [{ name: 'env', ...a }] } });

const analysisTemplate: KindTable = {
  base: { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate', metadata: { name: 'smoke' }, spec: { metrics: [{ name: 'up', provider: web, successCondition: 'result == true' }] } },
  rows: [
    ['metrics[].name, provider.web, successCondition', {}],
    ['metrics[].interval, count', metric({ interval: '30s', count: 5 })],
    ['metrics[].initialDelay', metric({ initialDelay: '1m' })],
    ['metrics[].failureCondition', metric({ failureCondition: 'result == false' })],
    ['metrics[].failureLimit', metric({ interval: '10s', count: 5, failureLimit: 2 })],
    ['metrics[].inconclusiveLimit', metric({ interval: '10s', count: 5, inconclusiveLimit: 1 })],
    ['metrics[].consecutiveErrorLimit', metric({ interval: '10s', count: 5, consecutiveErrorLimit: 3 })],
    ['metrics[].provider.prometheus', metric({ provider: { prometheus: { address: 'http://prometheus.monitoring:9090', query: 'up{job="api"}' } }, successCondition: 'result[0] == 1' })],
    [
      'metrics[].provider.job',
      metric({ provider: { job: { spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'check', image: 'curlimages/curl:8.8.0', args: ['-f', 'https://status.example.com'] }] } } } } }, successCondition: undefined }),
    ],
    ...['datadog', 'newRelic', 'kayenta', 'wavefront', 'cloudWatch', 'graphite', 'influxdb', 'skywalking', 'plugin'].map((p): Row => [
      `metrics[].provider.${p}`,
      metric({ provider: { [p]: {} } }),
      { path: `spec.metrics[0].provider.${p}`, message: new RegExp(`^the ${p} provider is not supported: Stagecoach runs web, prometheus and job metrics`) },
    ]),
    ['args[].name (given by the Stage)', arg({})],
    ['args[].value', arg({ value: 'dev' })],
    [
      'args[].valueFrom.secretKeyRef',
      arg({ valueFrom: { secretKeyRef: { name: 'tokens', key: 'api' } } }),
      { path: 'spec.args[0].valueFrom', message: /^is not supported by Stagecoach .*give it in the Stage, under spec\.verification\.args/ },
    ],
    [
      'args[].valueFrom.fieldRef',
      arg({ valueFrom: { fieldRef: { fieldPath: 'metadata.labels["env"]' } } }),
      { path: 'spec.args[0].valueFrom', message: /^is not supported by Stagecoach .*give it in the Stage, under spec\.verification\.args/ },
    ],
    ['dryRun[].metricName', { spec: { dryRun: [{ metricName: 'up' }] } }],
    ['measurementRetention[].metricName, limit', { spec: { measurementRetention: [{ metricName: '.*', limit: 20 }] } }],
  ],
};

const kinds: Record<string, KindTable> = {
  Warehouse: warehouse,
  Stage: stage,
  PromotionTask: promotionTask,
  ProjectConfig: projectConfig,
  Project: project,
  ClusterConfig: clusterConfig,
  ClusterPromotionTask: clusterPromotionTask,
  AnalysisTemplate: analysisTemplate,
};

/** The problems of applying this document (with the neighbours a project set needs), [] when accepted. */
function problemsOf(document: Doc, cluster: boolean): { path: string; message: string }[] {
  const text = (cluster ? [document] : [...neighbours, document]).map(d => stringify(d)).join('---\n');
  try {
    if (cluster) parseClusterManifests(text, manifestExtensions());
    else parseManifests(PROJECT, text, manifestExtensions(), clusterTasks);
    return [];
  } catch (e) {
    if (e instanceof ManifestValidationError) return e.problems.map(p => ({ path: p.path, message: p.message }));
    throw e;
  }
}

/** What applying a row answers: nothing, or the one refusal. */
const expectedProblems = (refused?: Row[2]) => (refused ? [{ path: refused.path, message: expect.stringMatching(refused.message) }] : []);

describe("Kargo's documents, field by field", () => {
  describe.each(Object.entries(kinds))('%s', (_kind, { base, rows, cluster }) => {
    it.each(rows.map(([field, patch, refused]) => ({ field, patch, refused })))('$field', ({ patch, refused }) => {
      const problems = problemsOf(merge(base, patch) as Doc, !!cluster);
      expect(problems).toEqual(expectedProblems(refused));
    });
  });
});
