import { manifestExtensions } from '../app/manifestExtensions';
import { parseManifests as parseWith } from './parseManifests';
import { ManifestValidationError } from './ManifestValidationError';

/**
 * Kargo's fields as a Kargo user writes them: each accepted (and what it does), or refused
 * naming what to write instead; and what apply checks that would otherwise fail a promotion.
 */
const parse = (text: string) => parseWith('demo', text, manifestExtensions());

function problemsOf(text: string) {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ManifestValidationError) return e.problems.map(p => ({ path: p.path, message: p.message }));
    throw e;
  }
  return [];
}

const warehouse = (subscriptions: string, extra = '') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:${extra}
  subscriptions:
${subscriptions}
`;

const stage = (steps: string, extra = '') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
spec:${extra}
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
${steps}
`;

const git = '    - git: {repoURL: "https://git.example.com/app.git"}';

describe('Kargo fields in manifests', () => {
  it('accepts every Kargo field of git, image and chart subscriptions, shard and a subscription name', () => {
    const m = parse(
      [
        warehouse(
          `    - name: source
      git:
        repoURL: https://git.example.com/app.git
        commitSelectionStrategy: SemVer
        semverConstraint: ">=1.0, <2"
        strictSemvers: false
        allowTagsRegexes: ["^v"]
        ignoreTagsRegexes: ["-rc"]
        expressionFilter: 'author != "bot <bot@example.com>" && tag != "v1.0.1"'
        includePaths: [apps]
        excludePaths: ["glob:**/*.md"]
        since: "2026-01-01T00:00:00Z"
        discoveryLimit: 10
        blobless: true
        insecureSkipTLSVerify: true
    - image:
        repoURL: ghcr.io/acme/api
        imageSelectionStrategy: SemVer
        constraint: ^1.2.0
        strictSemvers: true
        allowTagsRegexes: ["^1\\\\."]
        ignoreTagsRegexes: ["-debug$"]
        platform: linux/amd64
        discoveryLimit: 5
        cacheByTag: true
        insecureSkipTLSVerify: false
    - chart:
        repoURL: https://charts.example.com
        name: app
        semverConstraint: ~1.4
        discoveryLimit: 3
        insecureSkipTLSVerify: true`,
          '\n  shard: east\n  interval: 10m',
        ),
        stage('        - uses: fail\n          config: {message: stop}', '\n  shard: east'),
      ].join('---\n'),
    );
    expect(m.warehouses[0].spec).toMatchObject({ shard: 'east', interval: '10m' });
    expect(m.warehouses[0].spec.subscriptions[0]).toMatchObject({ name: 'source', git: { blobless: true, since: '2026-01-01T00:00:00Z' } });
    expect(m.warehouses[0].spec.subscriptions[1].image).toMatchObject({ cacheByTag: true });
    expect(m.stages[0].spec).toMatchObject({ shard: 'east' });
  });

  it('refuses allowTags / ignoreTags (failing discovery in Kargo from v1.11) naming the field to write; reads an image semverConstraint as constraint', () => {
    expect(
      problemsOf(
        warehouse(`    - git: {repoURL: "https://git.example.com/app.git", commitSelectionStrategy: Lexical, allowTags: "^v1"}
    - image: {repoURL: ghcr.io/acme/api, ignoreTags: [latest]}`),
      ),
    ).toEqual([
      {
        path: 'spec.subscriptions[0].git.allowTags',
        message: expect.stringMatching(/^allowTags is deprecated in Kargo and fails discovery from v1\.11: write allowTagsRegexes, a list/),
      },
      {
        path: 'spec.subscriptions[1].image.ignoreTags',
        message: expect.stringMatching(/^ignoreTags is deprecated in Kargo and fails discovery from v1\.11: write ignoreTagsRegexes, a list/),
      },
    ]);
    // an image's semverConstraint, Kargo's older name of constraint (its quickstart still writes it), is read as constraint
    expect(parse(warehouse('    - image: {repoURL: ghcr.io/acme/api, semverConstraint: ^1.0.0}')).warehouses[0].spec.subscriptions[0].image).toMatchObject({
      constraint: '^1.0.0',
    });
  });

  it('refuses an invalid semver constraint where it is one, naming the field', () => {
    expect(
      problemsOf(
        warehouse(`    - git: {repoURL: "https://git.example.com/app.git", commitSelectionStrategy: SemVer, semverConstraint: ">>1.0"}
    - image: {repoURL: ghcr.io/acme/api, constraint: ">>1.0"}
    - chart: {repoURL: "oci://ghcr.io/acme/chart", semverConstraint: "1.x.y.z"}
    - image: {repoURL: ghcr.io/acme/web, imageSelectionStrategy: Digest, constraint: "stable"}
    - image: {repoURL: ghcr.io/acme/ui, imageSelectionStrategy: Lexical, constraint: "anything"}`),
      ),
    ).toEqual([
      {
        path: 'spec.subscriptions[0].git.semverConstraint',
        message: 'semverConstraint ">>1.0" is not a semver constraint (such as ^1.2.0, ~1.4, >=1.0 <2 or >=1.0, <2)',
      },
      {
        path: 'spec.subscriptions[1].image.constraint',
        message: expect.stringMatching(/^constraint ">>1\.0" is not a semver constraint .*, which the SemVer strategy needs$/),
      },
      {
        path: 'spec.subscriptions[2].chart.semverConstraint',
        message: expect.stringMatching(/^semverConstraint "1\.x\.y\.z" is not a semver constraint/),
      },
    ]);
  });

  it('refuses a subscription kind no module brought, naming the kinds there are and how to add one', () => {
    expect(problemsOf(warehouse(`${git}\n    - s3: {bucket: releases, discoveryLimit: 5}`))).toEqual([
      {
        path: 'spec.subscriptions[1].s3',
        message:
          '"s3" is not a subscription kind of this backend, which has git, image or chart; a backend module can add a kind (stagecoachSubscriptionKindsExtensionPoint, see docs/extending.md)',
      },
    ]);
    expect(problemsOf(warehouse('    - name: empty'))).toEqual([
      { path: 'spec.subscriptions[0]', message: 'must have exactly one of git, image or chart' },
    ]);
  });

  describe('step aliases are unique when applied', () => {
    it("in a stage's steps: written twice, or written as another step's default alias", () => {
      expect(
        problemsOf(
          [
            warehouse(git),
            stage(`        - uses: fail
          as: check
          config: {message: a}
        - uses: fail
          as: check
          config: {message: b}
        - uses: fail
          as: step-1
          config: {message: c}`),
          ].join('---\n'),
        ),
      ).toEqual([
        {
          path: 'spec.promotionTemplate.spec.steps[1].as',
          message: 'alias "check" is already step 1\'s: each step needs its own, since its outputs are outputs.check',
        },
      ]);
      expect(
        problemsOf(
          [
            warehouse(git),
            stage(`        - uses: fail
          config: {message: a}
        - uses: fail
          as: step-1
          config: {message: b}`),
          ].join('---\n'),
        ),
      ).toEqual([
        {
          path: 'spec.promotionTemplate.spec.steps[1].as',
          message:
            'alias "step-1" is already step 1\'s (its default alias, as it has no "as"): each step needs its own, since its outputs are outputs.step-1',
        },
      ]);
    });

    it("in a PromotionTask's steps, and between the tasks a stage calls", () => {
      const task = `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: publish
spec:
  steps:
    - uses: fail
      as: say
      config: {message: a}
    - uses: fail
      as: say
      config: {message: b}
`;
      expect(
        problemsOf(
          [
            warehouse(git),
            task,
            stage(`        - task: {name: publish}
          as: pub
        - task: {name: publish}
          as: pub`),
          ].join('---\n'),
        ),
      ).toEqual([
        {
          path: 'spec.steps[1].as',
          message: 'alias "say" is already step 1\'s: each step needs its own, since its outputs are outputs.say',
        },
        {
          path: 'spec.promotionTemplate.spec.steps[1].as',
          message: 'alias "pub" is already step 1\'s: each step needs its own, since its outputs are outputs.pub',
        },
      ]);
    });
  });

  it('refuses literal step paths that leave the work directory, and leaves expressions to the run', () => {
    expect(
      problemsOf(
        [
          warehouse(git),
          stage(`        - uses: git-clone
          config:
            repoURL: https://git.example.com/gitops.git
            checkout: [{branch: main, path: ./src}, {branch: env, path: ../../../etc}]
        - uses: copy
          config: {inPath: /etc/passwd, outPath: "./out/\${{ vars.name }}"}
        - uses: delete
          config: {paths: [./tmp, "src/../../x"]}
        - uses: yaml-update
          config: {path: "\${{ vars.file }}", updates: [{key: a, value: b}]}
        - uses: helm-template
          config: {path: ./src/chart, outPath: ./out, releaseName: app, valuesFiles: [./values.yaml, /values.yaml]}`),
        ].join('---\n'),
      ),
    ).toEqual([
      {
        path: 'spec.promotionTemplate.spec.steps[0].config.checkout[1].path',
        message: '"../../../etc" leaves the promotion\'s work directory',
      },
      {
        path: 'spec.promotionTemplate.spec.steps[1].config.inPath',
        message: '"/etc/passwd" is an absolute path: a step\'s paths are relative to the promotion\'s work directory',
      },
      {
        path: 'spec.promotionTemplate.spec.steps[2].config.paths[1]',
        message: '"src/../../x" leaves the promotion\'s work directory',
      },
      {
        path: 'spec.promotionTemplate.spec.steps[4].config.valuesFiles[1]',
        message: expect.stringMatching(/^"\/values\.yaml" is an absolute path/),
      },
    ]);
  });
});
