import { manifestExtensions } from '../app/manifestExtensions';
import { ManifestValidationError } from './ManifestValidationError';
import { parseManifests } from './parseManifests';

/** Every `${{ }}` of a set is parsed when it is applied; what does not parse is a problem at its field. */
function problemsOf(text: string) {
  try {
    parseManifests('demo', text, manifestExtensions());
  } catch (e) {
    if (e instanceof ManifestValidationError) return e.problems;
    throw e;
  }
  return [];
}

const warehouse = (criteria = 'imageFrom("ghcr.io/acme/app").Tag != ""') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app}
spec:
  subscriptions:
    - image: {repoURL: ghcr.io/acme/app}
  freightCreationCriteria:
    expression: ${JSON.stringify(criteria)}
`;

const stage = (steps: string, extra = '') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  vars:
    - name: repo
      value: \${{ "https://git.example.com/" + ctx.project }}
${extra}  promotionTemplate:
    spec:
      vars:
        - name: branch
          value: env/\${{ ctx.stage }}
      steps:
${steps}`;

const goodSteps = `        - uses: git-clone
          config:
            repoURL: \${{ vars.repo }}
            checkout: [{branch: main, path: ./src}]
        - uses: compose-output
          as: out
          if: \${{ success() && imageFrom("ghcr.io/acme/app").Tag matches "^v" }}
          config:
            tags: \${{ filter(["v1", "v2"], # startsWith "v") | join(",") }}
            labels: '\${{ {team: "a", "tier": upper("x")} }}'
`;

describe('expressions are parsed when manifests are applied', () => {
  it('accepts a set whose expressions are expr-lang', () => {
    expect(problemsOf([warehouse(), stage(goodSteps)].join('---\n'))).toEqual([]);
  });

  it('names the document, the resource and the field of each expression that does not parse', () => {
    const steps = `        - uses: compose-output
          as: a
          config:
            x: ok
        - uses: compose-output
          as: b
          if: success() &&
          vars:
            - name: v
              value: \${{ vars.repo + }}
        - uses: compose-output
          as: c
          config:
            images:
              - tag: v-\${{ imageFrom("ghcr.io/acme/app").Tag ] }}
`;
    const problems = problemsOf([warehouse('imageFrom("x").Tag =='), stage(steps)].join('---\n'));
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          document: 1,
          resource: 'Warehouse/app',
          path: 'spec.freightCreationCriteria.expression',
          message: 'cannot parse "imageFrom("x").Tag ==": Expected expression after == at character 21',
        },
        {
          document: 2,
          resource: 'Stage/dev',
          path: 'spec.promotionTemplate.spec.steps[1].if',
          message: 'cannot parse "success() &&": Expected expression after && at character 12',
        },
        {
          document: 2,
          resource: 'Stage/dev',
          path: 'spec.promotionTemplate.spec.steps[1].vars[0].value',
          message: 'cannot parse "vars.repo +": Expected expression after + at character 11',
        },
        {
          document: 2,
          resource: 'Stage/dev',
          path: 'spec.promotionTemplate.spec.steps[2].config.images[0].tag',
          message: expect.stringMatching(/^cannot parse "imageFrom\("ghcr.io\/acme\/app"\).Tag \]": Unexpected "\]"/),
        },
      ]),
    );
  });

  it('names a verification arg that does not parse', () => {
    const verification = `  verification:
    analysisTemplates: [{name: smoke}]
    args:
      - name: commit
        value: \${{ commitFrom("https://git.example.com/app").ID ( }}
`;
    expect(problemsOf([warehouse(), stage(goodSteps, verification)].join('---\n'))).toEqual([
      {
        document: 2,
        resource: 'Stage/dev',
        path: 'spec.verification.args[0].value',
        message:
          'cannot parse "commitFrom("https://git.example.com/app").ID (": only named functions can be called at character 42',
      },
    ]);
  });

  it('checks stage vars, template vars and a PromotionTask’s steps and vars', () => {
    const task = `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: {name: bump}
spec:
  vars:
    - name: image
      value: '\${{ # }}'
  steps:
    - uses: compose-output
      config:
        x: \${{ map([1], .x }}
`;
    const badStage = stage(goodSteps)
      .replace('${{ "https://git.example.com/" + ctx.project }}', '${{ "a" "b" }}')
      .replace('env/${{ ctx.stage }}', 'env/${{ ctx. }}');
    expect(problemsOf([warehouse(), badStage, task].join('---\n'))).toEqual([
      expect.objectContaining({ resource: 'Stage/dev', path: 'spec.vars[0].value', message: expect.stringContaining('must be a single expression') }),
      expect.objectContaining({ resource: 'Stage/dev', path: 'spec.promotionTemplate.spec.vars[0].value', message: expect.stringContaining('Expected a field name after "."') }),
      expect.objectContaining({ resource: 'PromotionTask/bump', path: 'spec.steps[0].config.x', message: expect.stringContaining('Expected "," or ")" in the arguments of map') }),
      expect.objectContaining({ resource: 'PromotionTask/bump', path: 'spec.vars[0].value', message: expect.stringContaining('# can only be used inside a predicate') }),
    ]);
  });
});
