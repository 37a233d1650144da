import { Knex } from 'knex';
import { StagecoachEngine } from '.';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture, pipelineYaml } from '../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { silentLogger } from '../util/types';
import { evaluateLinks } from './deepLinks';

jest.setTimeout(120_000);

const projectConfig = (links: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: demo
spec:
${links}
`;

describe('ProjectConfig freightLinks and stageLinks', () => {
  it('evaluates if, title, url and description; keeps a failing link with its error; refuses non-http URLs', () => {
    const scope = { values: { project: 'demo', freight: { alias: 'red-fox', id: 'abc' } }, functions: {} };
    expect(
      evaluateLinks(
        [
          { title: 'Build ${{ freight.alias }}', url: 'https://ci.example.com/${{ project }}/${{ freight.id }}', description: 'of ${{ project }}' },
          { title: 'hidden', url: 'https://x.example.com', if: 'freight.alias == "blue-cat"' },
          { title: 'shown', url: 'https://x.example.com', if: '${{ freight.alias == "red-fox" }}' },
          { title: 'typo', url: 'https://x.example.com/${{ freight.nope.deeper }}' },
          // eslint-disable-next-line no-script-url -- what a hostile manifest would write: it must not come back as a url
          { title: 'script', url: 'javascript:alert(1)' },
          { title: 'not a condition', url: 'https://x.example.com', if: 'freight.alias' },
        ],
        scope,
      ),
    ).toEqual([
      { title: 'Build red-fox', url: 'https://ci.example.com/demo/abc', description: 'of demo' },
      { title: 'shown', url: 'https://x.example.com' },
      { title: 'typo', error: expect.stringContaining('freight.nope') },
      { title: 'script', error: 'url must be an http(s) URL, but it is "javascript:alert(1)"' },
      { title: 'not a condition', error: 'if must be true or false, but it is "red-fox"' },
    ]);
  });

  describe('in the API views of freight and stages', () => {
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
          workDir: `${git.root}/work-${databaseId}`,
        });
      });
      afterAll(async () => {
        await knex.destroy();
        await git.close();
      });

      it('refuses an expression that does not parse when applied, naming the link', async () => {
        const applying = engine.projects.applyManifests(
          'demo',
          pipelineYaml(git) + projectConfig('  freightLinks:\n    - title: CI\n      url: "https://ci.example.com/${{ freight. }}"'),
        );
        await expect(applying).rejects.toBeInstanceOf(ManifestValidationError);
        await expect(applying).rejects.toThrow(/spec\.freightLinks\[0\]\.url: cannot parse/);
      });

      it('returns each freight and stage with its links, evaluated over its own artifacts', async () => {
        await engine.projects.applyManifests(
          'demo',
          pipelineYaml(git) +
            projectConfig(`  freightLinks:
    - title: Release \${{ commitFrom("${git.appURL}").tag }}
      url: https://git.example.com/acme/app/releases/\${{ commitFrom("${git.appURL}").tag }}
      description: freight \${{ freight.alias }} from \${{ freight.origin.name }}
    - title: Only for 9.x
      url: https://example.com
      if: commitFrom("${git.appURL}").tag == "v9.0.0"
  stageLinks:
    - title: Dashboard of \${{ stage.name }}
      url: https://grafana.example.com/d/\${{ project }}?env=\${{ stage.name }}
    - title: Nothing deployed yet
      url: https://wiki.example.com/first-promotion
      if: freight == nil`),
        );
        const [run] = await engine.workers.discovery.runDue();
        expect(run.error).toBeUndefined();
        const [freight] = await engine.freight.list('demo');
        expect(freight.links).toEqual([
          {
            title: 'Release v1.2.0',
            url: 'https://git.example.com/acme/app/releases/v1.2.0',
            description: `freight ${freight.alias} from app`,
          },
        ]);
        expect((await engine.freight.get('demo', freight.alias)).links).toEqual(freight.links);
        const stages = await engine.stages.list('demo');
        expect(stages.map(s => s.links)).toEqual([
          [
            { title: 'Dashboard of dev', url: 'https://grafana.example.com/d/demo?env=dev' },
            { title: 'Nothing deployed yet', url: 'https://wiki.example.com/first-promotion' },
          ],
          [
            { title: 'Dashboard of staging', url: 'https://grafana.example.com/d/demo?env=staging' },
            { title: 'Nothing deployed yet', url: 'https://wiki.example.com/first-promotion' },
          ],
        ]);
      });

      it('leaves links out of the views when the ProjectConfig has none', async () => {
        await engine.projects.applyManifests('demo', pipelineYaml(git));
        const [freight] = await engine.freight.list('demo');
        expect(freight).not.toHaveProperty('links');
        expect((await engine.stages.get('demo', 'dev')).links).toBeUndefined();
      });

      it("shows the ClusterConfig's links before each project's own, evaluated the same way", async () => {
        await engine.cluster.apply(`apiVersion: kargo.akuity.io/v1alpha1
kind: ClusterConfig
metadata:
  name: cluster
spec:
  freightLinks:
    - title: Audit of \${{ project }}/\${{ freight.alias }}
      url: https://audit.example.com/\${{ project }}/\${{ commitFrom("${git.appURL}").tag }}
  stageLinks:
    - title: Runbook
      url: https://runbooks.example.com/\${{ project }}/\${{ stage.name }}
      if: stage.name == "dev"
`);
        try {
          // no ProjectConfig: the cluster's links alone
          await engine.projects.applyManifests('demo', pipelineYaml(git));
          const [freight] = await engine.freight.list('demo');
          const audit = { title: `Audit of demo/${freight.alias}`, url: 'https://audit.example.com/demo/v1.2.0' };
          expect(freight.links).toEqual([audit]);
          expect((await engine.freight.get('demo', freight.alias)).links).toEqual([audit]);
          expect((await engine.stages.list('demo')).map(s => s.links)).toEqual([
            [{ title: 'Runbook', url: 'https://runbooks.example.com/demo/dev' }],
            [],
          ]);
          // with the project's own: the cluster's come first
          await engine.projects.applyManifests(
            'demo',
            pipelineYaml(git) +
              projectConfig(`  freightLinks:
    - title: Project link
      url: https://demo.example.com/\${{ freight.id }}
  stageLinks:
    - title: Dashboard
      url: https://grafana.example.com/\${{ stage.name }}`),
          );
          expect((await engine.freight.get('demo', freight.alias)).links).toEqual([
            audit,
            { title: 'Project link', url: `https://demo.example.com/${freight.id}` },
          ]);
          expect((await engine.stages.get('demo', 'dev')).links).toEqual([
            { title: 'Runbook', url: 'https://runbooks.example.com/demo/dev' },
            { title: 'Dashboard', url: 'https://grafana.example.com/dev' },
          ]);
        } finally {
          await engine.cluster.apply('apiVersion: kargo.akuity.io/v1alpha1\nkind: ClusterConfig\nmetadata:\n  name: cluster\nspec: {}\n');
        }
        expect((await engine.stages.get('demo', 'dev')).links).toEqual([{ title: 'Dashboard', url: 'https://grafana.example.com/dev' }]);
      });
    });
  });
});
