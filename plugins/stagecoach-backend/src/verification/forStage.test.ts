import { manifestExtensions } from '../app/manifestExtensions';
import { parseManifests as parseWith } from '../manifests/parseManifests';
import type { StoredStage } from '../store/PipelineStore';
import { analysisForStage } from './forStage';

/** The manifests as the engine reads them: the features' extensions with their defaults. */
const parseManifests = (project: string, text: string) => parseWith(project, text, manifestExtensions());

const manifests = (arg: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
    - git:
        repoURL: https://git.example.com/app.git
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
spec:
  vars:
    - name: host
      value: dev.example.com
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: fail
          config:
            message: never run here
  verification:
    analysisTemplates:
      - name: smoke
    args:
      - name: count
        value: "${arg}"
      - name: host
        value: \${{ vars.host }}
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: smoke
spec:
  args:
    - name: count
    - name: host
  metrics:
    - name: up
      count: "{{args.count}}"
      interval: 1m
      successCondition: result == "ok"
      provider:
        web:
          url: https://{{args.host}}/healthz
`;

function stage(arg: string): StoredStage {
  const [dev] = parseManifests('demo', manifests(arg)).stages;
  return { ...dev, project: 'demo' };
}

describe('what a new verification of a stage runs', () => {
  it('the merged templates with the stage args applied, expressions evaluated with the stage vars', () => {
    const { analysis, error } = analysisForStage(stage('3'));
    expect(error).toBeUndefined();
    expect(analysis).toMatchObject({ templates: ['smoke'], args: { count: '3', host: 'dev.example.com' } });
    expect(analysis!.metrics[0]).toMatchObject({ name: 'up', count: 3, provider: { web: { url: 'https://dev.example.com/healthz' } } });
  });

  it('an arg that makes no sense once substituted stops the verification with the reason, not the promotion', () => {
    expect(analysisForStage(stage('many'))).toEqual({
      templates: ['smoke'],
      error: expect.stringMatching(/^the verification cannot run: metric up: count .*"many"/),
    });
    expect(analysisForStage(stage('${{ nope() }}'))).toEqual({
      templates: ['smoke'],
      error: expect.stringMatching(/^the verification cannot run: .*nope/),
    });
  });
});
