import { manifestExtensions } from '../app/manifestExtensions';
import { parseManifests as parseWith, pipelineOrder } from './parseManifests';
import { ManifestValidationError } from './ManifestValidationError';

/** The manifests as the engine reads them: the features' extensions with their defaults. */
const parseManifests = (project: string, text: string) => parseWith(project, text, manifestExtensions());

const warehouse = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
    - git:
        repoURL: https://git.example.com/app.git
        commitSelectionStrategy: SemVer
        semverConstraint: ^1.0.0
`;

const stage = (name: string, sources: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: ${sources}
`;

function problemsOf(text: string, project = 'demo') {
  try {
    parseManifests(project, text);
  } catch (e) {
    if (e instanceof ManifestValidationError) return e.problems;
    throw e;
  }
  throw new Error('expected problems');
}

describe('parseManifests', () => {
  it('accepts Kargo manifests and applies defaults', () => {
    const m = parseManifests('demo', [warehouse, stage('prod', '{stages: [staging]}'), stage('staging', '{direct: true}')].join('---\n'));
    expect(m.warehouses[0].spec).toMatchObject({ interval: '5m0s', freightCreationPolicy: 'Automatic' });
    expect(m.warehouses[0].spec.subscriptions[0].git!).toMatchObject({ discoveryLimit: 20, strictSemvers: true });
    expect(pipelineOrder(m.stages)).toEqual(['staging', 'prod']);
  });

  it('refuses credentials written into a repository URL, without repeating them', () => {
    const problems = problemsOf(warehouse.replace('https://git.example.com', 'https://bot:hunter2-secret@git.example.com'));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'spec.subscriptions[0].git.repoURL',
        message: 'must not carry credentials (user:password@): give them in app-config, never in a manifest',
      }),
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('lists every problem with its document and field path', () => {
    const text = [
      warehouse.replace('SemVer', 'Newest').replace('https://git.example.com/app.git', 'not a url'),
      stage('dev', '{direct: true}').replace('name: app', 'name: missing'),
      stage('staging', '{stages: [qa]}').replace('metadata:', 'metadata:\n  namespace: other'),
      'apiVersion: kargo.akuity.io/v1\nkind: Stages\nmetadata: {name: x}\n',
    ].join('---\n');
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ document: 1, resource: 'Warehouse/app', path: 'spec.subscriptions[0].git.repoURL' }),
        expect.objectContaining({
          document: 1,
          path: 'spec.subscriptions[0].git.commitSelectionStrategy',
          message: 'must be NewestFromBranch (the default), SemVer, Lexical or NewestTag',
        }),
        expect.objectContaining({
          document: 2,
          resource: 'Stage/dev',
          path: 'spec.requestedFreight[0].origin.name',
          message: 'names Warehouse "missing", which is not in this set of manifests',
        }),
        expect.objectContaining({ document: 3, path: 'metadata.namespace', message: expect.stringMatching(/project "demo"/) }),
        expect.objectContaining({ document: 3, path: 'spec.requestedFreight[0].sources.stages[0]' }),
        expect.objectContaining({ document: 4, path: 'apiVersion', message: 'must be kargo.akuity.io/v1alpha1' }),
        expect.objectContaining({ document: 4, path: 'kind' }),
      ]),
    );
  });

  it('git subscriptions: NewestFromBranch by default, branch, and path filters checked entry by entry', () => {
    const git = (fields: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
    - git:
        repoURL: https://git.example.com/app.git
${fields
  .split('\n')
  .filter(Boolean)
  .map(l => `        ${l}`)
  .join('\n')}
`;
    const [w] = parseManifests('demo', git('includePaths: [apps/api, "glob:charts/**", "regexp:^docs/"]')).warehouses;
    expect(w.spec.subscriptions[0].git).toEqual({
      repoURL: 'https://git.example.com/app.git',
      commitSelectionStrategy: 'NewestFromBranch',
      strictSemvers: true,
      discoveryLimit: 20,
      includePaths: ['apps/api', 'glob:charts/**', 'regexp:^docs/'],
    });
    expect(
      parseManifests('demo', git('branch: release/1.x\nexcludePaths: [docs]')).warehouses[0].spec.subscriptions[0].git,
    ).toMatchObject({ commitSelectionStrategy: 'NewestFromBranch', branch: 'release/1.x', excludePaths: ['docs'] });
    // as in Kargo, fields of the other kind of strategy are accepted and have no effect
    expect(() => parseManifests('demo', git('commitSelectionStrategy: SemVer\nbranch: main'))).not.toThrow();
    expect(() => parseManifests('demo', git('branch: main\nsemverConstraint: ^1.0.0\nallowTagsRegexes: [^v]'))).not.toThrow();

    const at = 'spec.subscriptions[0].git';
    expect(
      problemsOf(git('includePaths: [apps, "glob:apps/[abc", "regex:(api"]\nexcludePaths: ["", "regexp:ok", "glob:{a,b"]')),
    ).toEqual([
      expect.objectContaining({
        path: `${at}.includePaths[1]`,
        message: '"glob:apps/[abc" is not a valid glob: "[" at position 6 is not closed by "]"',
      }),
      expect.objectContaining({
        path: `${at}.includePaths[2]`,
        message: expect.stringMatching(/^"regex:\(api" is not a valid regular expression: /),
      }),
      expect.objectContaining({ path: `${at}.excludePaths[0]`, message: expect.stringMatching(/must not be empty/) }),
      expect.objectContaining({
        path: `${at}.excludePaths[2]`,
        message: '"glob:{a,b" is not a valid glob: "{" is not closed by "}"',
      }),
    ]);
    expect(problemsOf(git('branch: "-x"'))).toEqual([
      expect.objectContaining({ path: `${at}.branch`, message: expect.stringMatching(/^must be a branch name/) }),
    ]);
    expect(problemsOf(git('commitSelectionStrategy: NewestCommit'))).toEqual([
      expect.objectContaining({
        path: `${at}.commitSelectionStrategy`,
        message: 'must be NewestFromBranch (the default), SemVer, Lexical or NewestTag',
      }),
    ]);
  });

  it('names unknown fields, bad step configuration and unknown steps', () => {
    const text = `${warehouse.replace('spec:', 'spec:\n  intervall: 5m')}---
${stage('dev', '{direct: true}')}  promotionTemplate:
    spec:
      steps:
        - uses: git-clone
          config:
            repoURL: \${{ vars.repo }}
            checkout: []
        - uses: yaml-update
          config:
            path: ./x.yaml
            updates: \${{ vars.updates }}
        - uses: helm-teleport
`;
    const problems = problemsOf(text);
    expect(problems).toEqual([
      { document: 1, resource: 'Warehouse/app', path: 'spec', message: 'unknown field "intervall"' },
      {
        document: 2,
        resource: 'Stage/dev',
        path: 'spec.promotionTemplate.spec.steps[0].config.checkout',
        message: 'needs at least one checkout',
      },
      {
        document: 2,
        resource: 'Stage/dev',
        path: 'spec.promotionTemplate.spec.steps[2].uses',
        message: expect.stringMatching(/^unknown step "helm-teleport" \(known: git-clone, /),
      },
    ]);
  });

  it('finds cycles between stages and invalid YAML', () => {
    const cyclic = [warehouse, stage('a', '{stages: [b]}'), stage('b', '{stages: [a]}')].join('---\n');
    expect(problemsOf(cyclic)).toEqual([
      expect.objectContaining({ message: 'stages form a cycle: a -> b -> a' }),
    ]);
    expect(problemsOf('kind: [unclosed\n')).toEqual([
      expect.objectContaining({ document: 1, message: expect.stringMatching(/^invalid YAML/) }),
    ]);
  });

  it('the error message lists the problems for humans', () => {
    expect(() => parseManifests('demo', stage('dev', '{direct: true}'))).toThrow(
      /1 problem in the manifests, nothing was applied:\n {2}- document 1 \(Stage\/dev\), spec.requestedFreight\[0\].origin.name: names Warehouse "app"/,
    );
  });
});

describe('parseManifests: verification with AnalysisTemplates', () => {
  const verifying = (templates: string[], args = '') => `${stage('dev', '{direct: true}')}  verification:
    analysisTemplates:
${templates.map(t => `      - name: ${t}`).join('\n')}
${args}`;
  const template = (name: string, metric: string, extra = '') => `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: ${name}
spec:
${extra}  metrics:
    - name: ${metric}
      successCondition: result == "ok"
      provider:
        web:
          url: https://dev.example.com/healthz
          jsonPath: "{$.status}"
`;

  it('merges the templates a stage names into what it stores, args and all', () => {
    const text = [warehouse, verifying(['smoke', 'more'], '    args:\n      - name: host\n        value: ${{ ctx.stage }}.example.com\n'), template('smoke', 'up', '  args:\n    - name: host\n'), template('more', 'ready')].join('---\n');
    const { stages } = parseManifests('demo', text);
    expect(stages[0].spec.verification?.analysis?.metrics.map(m => m.name)).toEqual(['up', 'ready']);
    expect(stages[0].spec.verification?.analysis?.args).toEqual([{ name: 'host' }]);
  });

  it('names a missing template, a metric defined twice, an arg without a value, and an AnalysisTemplate under the wrong apiVersion', () => {
    const wrongApi = template('other', 'x').replace('argoproj.io/v1alpha1', 'kargo.akuity.io/v1alpha1');
    const text = [
      warehouse,
      verifying(['smoke', 'twin', 'ghost']),
      template('smoke', 'up', '  args:\n    - name: host\n'),
      template('twin', 'up'),
      wrongApi,
    ].join('---\n');
    expect(problemsOf(text)).toEqual(
      expect.arrayContaining([
        { document: 2, resource: 'Stage/dev', path: 'spec.verification.analysisTemplates[2].name', message: 'names AnalysisTemplate "ghost", which is not in this set of manifests' },
        { document: 5, path: 'apiVersion', message: 'must be argoproj.io/v1alpha1: AnalysisTemplates are Argo Rollouts\' documents' },
      ]),
    );
    // with ghost gone, the merge itself is checked: the twin metric, then the missing arg
    const merged = problemsOf([warehouse, verifying(['smoke', 'twin']), template('smoke', 'up', '  args:\n    - name: host\n'), template('twin', 'up')].join('---\n'));
    expect(merged).toEqual([
      expect.objectContaining({ document: 4, resource: 'AnalysisTemplate/twin', path: 'spec.metrics[0].name', message: expect.stringMatching(/^metric "up" is also defined in AnalysisTemplate smoke.*\(verifying Stage\/dev\)$/) }),
    ]);
    const noArg = problemsOf([warehouse, verifying(['smoke']), template('smoke', 'up', '  args:\n    - name: host\n')].join('---\n'));
    expect(noArg).toEqual([
      { document: 2, resource: 'Stage/dev', path: 'spec.verification.args', message: 'needs a value for "host": AnalysisTemplate smoke declares it without a default' },
    ]);
  });

  it('refuses a provider Stagecoach cannot run, saying which ones it can', () => {
    const datadog = template('smoke', 'up').replace(/web:\n.*\n.*\n/, 'datadog:\n          query: avg:errors\n');
    const problems = problemsOf([warehouse, verifying(['smoke']), datadog].join('---\n'));
    expect(problems).toEqual([expect.objectContaining({ document: 3, resource: 'AnalysisTemplate/smoke', path: expect.stringMatching(/^spec\.metrics\[0\]\.provider/), message: expect.stringMatching(/datadog.*web, prometheus and job/) })]);
  });
});
