import { ManifestValidationError } from './ManifestValidationError';
import { manifestExtensions } from '../app/manifestExtensions';
import { parseManifests as parseWith } from './parseManifests';
import { findPromotionPolicy } from '../stages/selectors';

/** The manifests as the engine reads them: the features' extensions with their defaults. */
const parseManifests = (project: string, text: string) => parseWith(project, text, manifestExtensions());

const pipeline = (sources = '{stages: [dev]}') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: demo}
spec:
  subscriptions:
    - git: {repoURL: https://git.example.com/acme/app.git}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: demo, labels: {tier: test}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: staging, namespace: demo}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: ${sources}
`;

const config = (spec: string, name = 'demo') => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: {name: ${name}, namespace: demo}
spec:
${spec}`;

function problems(text: string) {
  try {
    parseManifests('demo', text);
  } catch (e) {
    if (e instanceof ManifestValidationError) return e.problems.map(p => ({ document: p.document, path: p.path, message: p.message }));
    throw e;
  }
  throw new Error('the manifests were accepted');
}

describe('ProjectConfig and stage sources in manifests', () => {
  it('accepts Kargo ProjectConfig documents and stage labels', () => {
    const parsed = parseManifests(
      'demo',
      pipeline('{stages: [dev], requiredSoakTime: 1h30m, availabilityStrategy: All, autoPromotionOptions: {selectionPolicy: MatchUpstream}}') +
        config(`  promotionPolicies:
    - stage: dev
      autoPromotionEnabled: true
    - stageSelector: {name: "glob:stag*"}
      autoPromotionEnabled: true
    - stageSelector: {matchLabels: {tier: test}, matchExpressions: [{key: region, operator: NotIn, values: [eu]}]}
  webhookReceivers: []
  freightLinks:
    - {title: Build, url: "\${{ 'https://ci.example.com/' + freight.name }}"}
  stageLinks: []
`),
    );
    expect(parsed.projectConfig?.promotionPolicies).toHaveLength(3);
    expect(parsed.stages.find(s => s.name === 'dev')?.labels).toEqual({ tier: 'test' });
    expect(parsed.stages.find(s => s.name === 'staging')?.spec.requestedFreight[0].sources).toEqual({
      stages: ['dev'],
      requiredSoakTime: '1h30m',
      availabilityStrategy: 'All',
      autoPromotionOptions: { selectionPolicy: 'MatchUpstream' },
    });
    const policies = parsed.projectConfig!.promotionPolicies!;
    expect(findPromotionPolicy(policies, { name: 'staging' })?.index).toBe(1);
    expect(findPromotionPolicy(policies, { name: 'qa', labels: { tier: 'test' } })?.index).toBe(2);
    expect(findPromotionPolicy(policies, { name: 'qa', labels: { tier: 'test', region: 'eu' } })).toBeUndefined();
    // the first match wins, as in Kargo
    expect(findPromotionPolicy(policies, { name: 'dev', labels: { tier: 'test' } })?.index).toBe(0);
  });

  it('names every ProjectConfig problem with its document and path', () => {
    expect(
      problems(
        pipeline() +
          config(
            `  promotionPolicies:
    - stageSelector: {name: "regex:("}
    - stageSelector: {name: "wildcard:prod-*"}
    - stage: dev
    - stageSelector: {name: dev}
    - stageSelector: {matchExpressions: [{key: tier, operator: In}]}
      autoPromotionEnabled: "yes"
    - stageSelector: {name: "glob:prod-[a"}
      automatic: true
  webhookReceivers:
    - name: gh
      azure: {secretRef: {name: gh-secret}}
`,
            'other',
          ),
      ),
    ).toEqual([
      { document: 4, path: 'metadata.name', message: 'is "other" but a ProjectConfig is named after its project: "demo"' },
      {
        document: 4,
        path: 'spec.promotionPolicies[0].stageSelector.name',
        message: expect.stringMatching(/^"regex:\(" is not a valid regular expression/),
      },
      {
        document: 4,
        path: 'spec.promotionPolicies[1].stageSelector.name',
        message: '"wildcard:" is not a pattern kind: use an exact stage name, glob:<pattern> or regex:<pattern>',
      },
      {
        document: 4,
        path: 'spec.promotionPolicies[4].stageSelector.matchExpressions[0].values',
        message: 'operator In needs at least one value',
      },
      { document: 4, path: 'spec.promotionPolicies[4].autoPromotionEnabled', message: expect.stringMatching(/boolean/) },
      {
        document: 4,
        path: 'spec.promotionPolicies[5].stageSelector.name',
        message: expect.stringMatching(/^"glob:prod-\[a" is not a valid glob/),
      },
      { document: 4, path: 'spec.promotionPolicies[5]', message: expect.stringMatching(/automatic/) },
      {
        document: 4,
        path: 'spec.webhookReceivers[0].azure',
        message: expect.stringMatching(/^Azure receivers are not supported: use a generic receiver in app-config \(stagecoach\.webhooks\.receivers/),
      },
    ]);
  });

  it('refuses two policies for one stage name: only the first would apply', () => {
    const twice = config(`  promotionPolicies:
    - stage: dev
    - stageSelector: {name: "glob:*"}
    - stageSelector: {name: dev}
      autoPromotionEnabled: true
`);
    expect(problems(pipeline() + twice)).toEqual([
      { document: 4, path: 'spec.promotionPolicies[2]', message: 'stage "dev" already has a policy at spec.promotionPolicies[0]' },
    ]);
  });

  it('allows one ProjectConfig per project', () => {
    const one = config('  promotionPolicies: []\n');
    expect(problems(pipeline() + one + one)).toEqual([
      { document: 5, path: 'kind', message: 'a project has one ProjectConfig; document 4 is one already' },
    ]);
  });

  it('checks the new stage source fields with their paths', () => {
    const at = 'spec.requestedFreight[0].sources';
    expect(problems(pipeline('{stages: [dev], availabilityStrategy: Any, requiredSoakTime: 10 minutes}'))).toEqual([
      { document: 3, path: `${at}.requiredSoakTime`, message: 'must be a duration such as "30s", "5m" or "1h30m"' },
      { document: 3, path: `${at}.availabilityStrategy`, message: 'must be OneOf (the default) or All' },
    ]);
    expect(problems(pipeline('{direct: true, autoPromotionOptions: {selectionPolicy: MatchUpstream}}'))).toEqual([
      {
        document: 3,
        path: `${at}.autoPromotionOptions.selectionPolicy`,
        message:
          'MatchUpstream cannot be used with direct: true: freight straight from the warehouse has no upstream stage to match',
      },
    ]);
    expect(problems(pipeline('{stages: [dev, dev], autoPromotionOptions: {selectionPolicy: Newest}}'))).toEqual([
      { document: 3, path: `${at}.autoPromotionOptions.selectionPolicy`, message: 'must be NewestFreight (the default) or MatchUpstream' },
    ]);
  });
});
