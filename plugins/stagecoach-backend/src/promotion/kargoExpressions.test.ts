import { PROGRESS_TEST_TIMEOUT_MS, untilPromotionEnds } from '../__testUtils__/until';
import { randomBytes } from 'node:crypto';
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
 * Kargo's expression functions and ctx fields, one row each, as a promotion step sees them:
 * one promotion through the engine (real Git on loopback) whose steps each evaluate one row
 * in a compose-output config, so each row passes or fails on its own. A function that needs
 * an artifact the freight lacks (imageFrom, chartFrom here) must fail with its own message,
 * not "unknown function". What each function returns in detail is tested with it.
 */

const FINAL = (p: Promotion) => !['Pending', 'Running'].includes(p.phase);
const SECRET = 'expr-secret-value';

interface Fixture {
  project: string;
  freight: { id: string; alias: string };
  promotionId: string;
  appURL: string;
}
/** [Kargo's function or ctx field, the expression, what the step outputs (or, for a function that fails here, its message)] */
type Row = [name: string, expression: (f: Fixture) => string, expected: (f: Fixture) => unknown];

const rows: Row[] = [
  // ctx
  ['ctx.uiBaseUrl', () => 'ctx.uiBaseUrl', () => 'https://backstage.example.com'],
  ['ctx.project', () => 'ctx.project', f => f.project],
  ['ctx.stage', () => 'ctx.stage', () => 'dev'],
  ['ctx.promotion', () => 'ctx.promotion', f => f.promotionId],
  ['ctx.targetFreight.name', () => 'ctx.targetFreight.name', f => f.freight.id],
  ['ctx.targetFreight.alias', () => 'ctx.targetFreight.alias', f => f.freight.alias],
  ['ctx.targetFreight.origin.name', () => 'ctx.targetFreight.origin.name', () => 'app'],
  ['ctx.meta.promotion.actor', () => 'ctx.meta.promotion.actor', () => 'user:default/ops'],
  ['ctx.meta.promotion.rollback', () => 'ctx.meta.promotion.rollback', () => false],
  ['ctx.meta.step.alias', () => 'ctx.meta.step.alias', () => `row-${rows.findIndex(([name]) => name === 'ctx.meta.step.alias')}`],
  // freight
  ['warehouse', () => 'warehouse("app")', () => ({ kind: 'Warehouse', name: 'app' })],
  ['commitFrom', f => `commitFrom("${f.appURL}").Tag`, () => 'v1.2.0'],
  ['commitFrom with an origin', f => `commitFrom("${f.appURL}", warehouse("app")).Tag`, () => 'v1.2.0'],
  ['artifactFrom', f => `artifactFrom("${f.appURL}").ID == commitFrom("${f.appURL}").ID`, () => true],
  ['freightMetadata (name, key)', () => 'freightMetadata(ctx.targetFreight.name, "checked")', () => true],
  ['freightMetadata (name)', () => 'freightMetadata(ctx.targetFreight.alias)', () => ({ checked: true })],
  ['stageMetadata (name, key)', () => 'stageMetadata("dev", "owner")', () => 'team-a'],
  ['stageMetadata (name)', () => 'stageMetadata("dev")', () => ({ owner: 'team-a' })],
  // data
  ['configMap', () => 'configMap("settings", "url")', () => 'https://api.example.com'],
  ['configMap (whole)', () => 'configMap("settings").url', () => 'https://api.example.com'],
  ['secret (a value read is *** in outputs)', () => 'secret("creds", "token")', () => '***'],
  ['sharedConfigMap', () => 'sharedConfigMap("global", "region")', () => 'eu-west-1'],
  ['sharedSecret', () => 'sharedSecret("shared-creds").key', () => '***'],
  // versions
  ['semverParse', () => 'semverParse("1.2.3-rc.1").Minor()', () => 2],
  ['semverParse (a bumped version)', () => 'semverParse("v1.2.3").IncMinor().String()', () => '1.3.0'],
  ['semverDiff', () => 'semverDiff("1.2.3", "1.3.0")', () => 'Minor'],
  // step status
  ['success', () => 'success()', () => true],
  ['failure', () => 'failure()', () => false],
  ['always', () => 'always()', () => true],
  ['status', () => 'status("row-0")', () => 'Succeeded'],
  // formatting
  ['quote', () => 'quote(42)', () => '42'],
  ['unsafeQuote', () => 'unsafeQuote(true)', () => 'true'],
  ['asJSON', () => 'asJSON({"a": [1, 2]})', () => '{"a":[1,2]}'],
  ['asYAML', () => 'asYAML({"a": 1})', () => 'a: 1\n'],
];

/** Functions whose artifact this freight (one git commit) lacks: they exist, and fail saying what the freight has. */
const missingArtifacts: Row[] = [
  ['imageFrom', () => 'imageFrom("ghcr.io/acme/api").Tag', () => /imageFrom\("ghcr\.io\/acme\/api"\)/],
  ['chartFrom', () => 'chartFrom("https://charts.example.com", "api").Version', () => /chartFrom\("https:\/\/charts\.example\.com", "api"\)/],
];

describe("Kargo's expression functions and ctx fields in promotion steps (real Git on loopback)", () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;
    let fixture: Fixture;
    let promotion: Promotion;

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex,
        logger: silentLogger,
        workDir: `${git.root}/work`,
        uiBaseUrl: 'https://backstage.example.com',
        projectCredentials: { encryptionKey: randomBytes(32).toString('base64') },
        worker: { concurrency: 1, pollIntervalMs: 20 },
      });
      engine.start();
      const header = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, metadata: { name } });
      const generic = { 'kargo.akuity.io/cred-type': 'generic' };
      await engine.cluster.apply(
        [
          { ...header('v1', 'ConfigMap', 'global'), data: { region: 'eu-west-1' } },
          { ...header('v1', 'Secret', 'shared-creds'), metadata: { name: 'shared-creds', labels: generic }, stringData: { key: SECRET } },
        ]
          .map(d => stringify(d))
          .join('---\n'),
      );
      const project = 'expressions';
      const all = [...rows, ...missingArtifacts];
      const steps = [
        {
          uses: 'set-metadata',
          as: 'meta',
          config: {
            updates: [
              { kind: 'Stage', name: 'dev', values: { owner: 'team-a' } },
              { kind: 'Freight', name: '${{ ctx.targetFreight.name }}', values: { checked: true } },
            ],
          },
        },
        ...all.map(([, expression], i) => ({
          uses: 'compose-output',
          as: `row-${i}`,
          continueOnError: true,
          config: { value: `\${{ ${expression({ appURL: git.appURL } as Fixture)} }}` },
        })),
      ];
      await engine.projects.applyManifests(
        project,
        [
          { ...header('kargo.akuity.io/v1alpha1', 'Warehouse', 'app'), spec: { subscriptions: [{ git: { repoURL: git.appURL, commitSelectionStrategy: 'SemVer' } }] } },
          { ...header('v1', 'ConfigMap', 'settings'), data: { url: 'https://api.example.com' } },
          { ...header('v1', 'Secret', 'creds'), metadata: { name: 'creds', labels: generic }, stringData: { token: SECRET } },
          {
            ...header('kargo.akuity.io/v1alpha1', 'Stage', 'dev'),
            spec: {
              requestedFreight: [{ origin: { kind: 'Warehouse', name: 'app' }, sources: { direct: true } }],
              promotionTemplate: { spec: { steps } },
            },
          },
        ]
          .map(d => stringify(d))
          .join('---\n'),
      );
      await engine.workers.discovery.runDue();
      const [freight] = await engine.freight.list(project);
      const { id } = await engine.promotions.promote(project, 'dev', freight.alias, 'user:default/ops');
      promotion = await untilPromotionEnds(() => engine.promotions.get(project, id), `promotion ${id}`);
      fixture = { project, freight: { id: freight.id, alias: freight.alias }, promotionId: id, appURL: git.appURL };
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    const stepOf = (i: number) => promotion.steps.find(s => s.alias === `row-${i}`);

    it('ran every row', () => {
      expect(FINAL(promotion)).toBe(true);
      expect(promotion.steps.find(s => s.alias === 'meta')?.status).toBe('Succeeded');
      expect(promotion.steps.length).toBe(1 + rows.length + missingArtifacts.length);
    });

    it.each(rows.map(([name], i) => ({ name, i })))('$name', ({ i }) => {
      const [, , expected] = rows[i];
      expect({ status: stepOf(i)?.status, message: stepOf(i)?.message, value: stepOf(i)?.outputs?.value }).toEqual({
        status: 'Succeeded',
        message: expect.anything(),
        value: expected(fixture),
      });
    });

    it.each(missingArtifacts.map(([name], i) => ({ name, i: rows.length + i })))('$name exists, and fails naming what the freight lacks', ({ i }) => {
      const [, , expected] = missingArtifacts[i - rows.length];
      expect(stepOf(i)?.status).toBe('Failed');
      expect(stepOf(i)?.message).toMatch(expected(fixture) as RegExp);
      expect(stepOf(i)?.message).not.toMatch(/unknown function/);
    });

    it('shows no Secret value anywhere in the promotion', () => {
      expect(JSON.stringify(promotion)).not.toContain(SECRET);
    });
  });
});
