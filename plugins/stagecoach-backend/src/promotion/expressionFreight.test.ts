import { PROGRESS_TEST_TIMEOUT_MS, untilPromotionEnds } from '../__testUtils__/until';
import type { Promotion } from '@stagecoach/plugin-stagecoach-common';
import { Knex } from 'knex';
import { stringify } from 'yaml';
import { StagecoachEngine } from '../app';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { silentLogger } from '../util/types';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/*
 * What promotion steps' expressions read of freight, as a Kargo user writes them, through
 * the engine against a real Git server on loopback: Kargo's field names, a field that does
 * not exist, and the origin argument of a stage fed by two warehouses.
 */


describe('expressions over freight in promotion steps (real Git on loopback)', () => {
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
        workDir: `${git.root}/work`,
        uiBaseUrl: 'https://backstage.example.com',
        worker: { concurrency: 1, pollIntervalMs: 20 },
      });
      engine.start();
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    const finished = (project: string, id: string): Promise<Promotion> =>
      untilPromotionEnds(() => engine.promotions.get(project, id), `promotion ${id}`);

    const header = (kind: string, name: string) => ({ apiVersion: 'kargo.akuity.io/v1alpha1', kind, metadata: { name } });
    const stage = (name: string, steps: unknown[]) => ({
      ...header('Stage', name),
      spec: {
        requestedFreight: [
          { origin: { kind: 'Warehouse', name: 'app' }, sources: { direct: true } },
          { origin: { kind: 'Warehouse', name: 'config' }, sources: { direct: true } },
        ],
        promotionTemplate: { spec: { steps } },
      },
    });

    /** Two warehouses (app's tags, gitops' main branch) and the stages; discovers both; the freight by warehouse. */
    async function pipeline(project: string, stages: unknown[]) {
      const docs = [
        {
          ...header('Warehouse', 'app'),
          spec: { subscriptions: [{ git: { repoURL: git.appURL, commitSelectionStrategy: 'SemVer' } }] },
        },
        { ...header('Warehouse', 'config'), spec: { subscriptions: [{ git: { repoURL: git.gitopsURL, branch: 'main' } }] } },
        ...stages,
      ];
      await engine.projects.applyManifests(project, docs.map(d => stringify(d)).join('---\n'));
      await engine.workers.discovery.runDue();
      const freight = await engine.freight.list(project);
      const of = (warehouse: string) => freight.find(f => f.origin.name === warehouse)!;
      expect(of('app').commits[0].tag).toBe('v1.2.0');
      expect(of('config').commits[0].branch).toBe('main');
      return { app: of('app'), config: of('config') };
    }
    const promote = async (project: string, stageName: string, freight: string) =>
      finished(project, (await engine.promotions.promote(project, stageName, freight, 'user:default/ops')).id);
    const outputs = (p: Promotion, alias: string) => p.steps.find(s => s.alias === alias)?.outputs;

    it('reads artifacts by Kargo’s field names and Stagecoach’s, and ctx as Kargo has it', async () => {
      const { app } = await pipeline('fields', [
        stage('dev', [
          {
            uses: 'compose-output',
            as: 'kargo',
            config: {
              id: `\${{ commitFrom("${git.appURL}").ID }}`,
              tag: `\${{ commitFrom("${git.appURL}").Tag }}`,
              repo: `\${{ commitFrom("${git.appURL}").RepoURL }}`,
              message: `\${{ commitFrom("${git.appURL}").Message }}`,
              branch: `\${{ commitFrom("${git.appURL}").Branch }}`,
              same: `\${{ commitFrom("${git.appURL}").ID == commitFrom("${git.appURL}").id }}`,
              withOrigin: `\${{ commitFrom("${git.appURL}", warehouse("app")).Tag }}`,
              ui: '${{ ctx.uiBaseUrl }}',
              rollback: '${{ ctx.meta.promotion.rollback }}',
              actor: '${{ ctx.meta.promotion.actor }}',
            },
          },
        ]),
      ]);
      const p = await promote('fields', 'dev', app.alias);
      expect(p.phase).toBe('Succeeded');
      expect(outputs(p, 'kargo')).toEqual({
        id: app.commits[0].id,
        tag: 'v1.2.0',
        repo: git.appURL,
        message: app.commits[0].message ?? '',
        branch: '',
        same: true,
        withOrigin: 'v1.2.0',
        ui: 'https://backstage.example.com',
        rollback: false,
        actor: 'user:default/ops',
      });
    });

    it('fails the step on a field the artifact does not have, naming it and the fields there are', async () => {
      const { app } = await pipeline('missing', [
        stage('dev', [{ uses: 'compose-output', as: 'out', config: { sha: `\${{ commitFrom("${git.appURL}").Sha }}` } }]),
      ]);
      const p = await promote('missing', 'dev', app.alias);
      expect(p.phase).toBe('Failed');
      expect(p.message).toBe(
        `step "out" failed: in "commitFrom("${git.appURL}").Sha": commitFrom("${git.appURL}") has no field "Sha" (its fields: RepoURL, ID, Branch, Tag, Message, Author, Committer, CommittedAt; or as Stagecoach writes them: repoURL, id, branch, tag, message, author, committer, committedAt)`,
      );
    });

    it('reads another warehouse’s artifact from the freight the stage holds from it, and says when it holds none', async () => {
      const readApp = {
        uses: 'compose-output',
        as: 'read',
        if: '${{ ctx.targetFreight.origin.name == "config" }}',
        config: {
          appTag: `\${{ commitFrom("${git.appURL}", warehouse("app")).Tag }}`,
          appWithoutOrigin: `\${{ commitFrom("${git.appURL}").Tag }}`,
          config: `\${{ commitFrom("${git.gitopsURL}", warehouse("config")).Branch }}`,
        },
      };
      const { app, config } = await pipeline('origins', [stage('dev', [readApp]), stage('qa', [readApp])]);
      // dev holds the app's freight once it was promoted there; the promotion of config's freight reads it
      const first = await promote('origins', 'dev', app.alias);
      expect(first.message ?? '').toBe('');
      expect(first.phase).toBe('Succeeded');
      const dev = await promote('origins', 'dev', config.alias);
      expect(dev.phase).toBe('Succeeded');
      expect(outputs(dev, 'read')).toEqual({ appTag: 'v1.2.0', appWithoutOrigin: 'v1.2.0', config: 'main' });

      // qa holds nothing from app
      const qa = await promote('origins', 'qa', config.alias);
      expect(qa.phase).toBe('Failed');
      expect(qa.message).toBe(
        `step "read" failed: in "commitFrom("${git.appURL}", warehouse("app")).Tag": commitFrom(..., warehouse("app")): the stage holds no freight from warehouse "app" (freight ${config.alias} comes from "config")`,
      );
    });
  });
});
