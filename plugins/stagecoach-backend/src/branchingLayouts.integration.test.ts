import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Knex } from 'knex';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import type { Promotion } from '@stagecoach/plugin-stagecoach-common';
import { StagecoachEngine } from './app';
import type { ScmCredentials } from './integrations/scm/ScmCredentials';
import { createTestDatabases } from './__testUtils__/databases';
import { FakeGithub, startFakeGithub } from './__testUtils__/githubApi';
import { startTestRegistry, TestRegistry } from './__testUtils__/registry';
import { PROGRESS_TEST_TIMEOUT_MS, promotionProgress, untilProgress } from './__testUtils__/until';
import { verificationOf } from './__testUtils__/verification';
import { silentLogger } from './util/types';
import { LOOPBACK_ALLOWED } from './__testUtils__/loopbackHttp';

// the waits below fail when nothing moves; the whole may take as long as the machine needs
jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * The two repository layouts of examples/ run end to end, from the example files as they
 * are (only the image and repository addresses swapped for loopback ones): a real OCI
 * registry, a real Git server over HTTP, real git and kustomize, and, for the pull request
 * to production, a loopback server speaking GitHub's REST API whose branches and merges are
 * the Git server's own.
 */
const repoRoot = path.resolve(__dirname, '../../..');
const EXAMPLE_IMAGE = 'ghcr.io/example/guestbook';
const EXAMPLE_REPO = 'https://github.com/example/guestbook-gitops.git';
const GITOPS = 'example/guestbook-gitops';

/** Debian's kubectl (kustomize inside) from .toolchain when there, else the one on PATH. */
const toolchainBin = path.join(repoRoot, '.toolchain/kubernetes-client/usr/bin');

function filesUnder(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = path.posix.join(prefix, e.name);
    if (e.isDirectory()) Object.assign(out, filesUnder(path.join(dir, e.name), rel));
    else out[rel] = fs.readFileSync(path.join(dir, e.name), 'utf8');
  }
  return out;
}

function waitFor(engine: StagecoachEngine, project: string, id: string, done: (p: Promotion) => boolean) {
  return untilProgress(() => engine.promotions.get(project, id), done, `promotion ${id} getting there`, {
    progress: promotionProgress,
    everyMs: 100,
  });
}
const final = (p: Promotion) => !['Pending', 'Running'].includes(p.phase);

describe('branching layouts from examples/, end to end (real registry, Git server, git and kustomize; GitHub REST on loopback)', () => {
  const databases = createTestDatabases();
  const oldPath = process.env.PATH;

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let registry: TestRegistry;
    let server: GitHttpServer;
    let github: FakeGithub;
    let root: string;
    /** How far the engine's clock runs ahead of the real one: waiting promotions wake without sleeping. */
    let ahead = 0;
    const bare = () => path.join(root, 'repos', `${GITOPS}.git`);
    const show = (ref: string, file: string) => git(bare(), 'show', `${ref}:${file}`);
    const count = async (ref: string) => Number(await git(bare(), 'rev-list', '--count', ref));

    beforeAll(async () => {
      if (fs.existsSync(toolchainBin)) process.env.PATH = `${toolchainBin}:${oldPath}`;
      root = await fsp.mkdtemp(path.join(os.tmpdir(), 'stagecoach-layouts-'));
      registry = await startTestRegistry();
      await registry.pushImage('example/guestbook', '1.0.0');
      server = await startGitHttpServer({ root: path.join(root, 'repos') });
      github = await startFakeGithub({ backedBy: repo => (repo === GITOPS ? bare() : undefined) });
      const credentials: ScmCredentials = {
        git: async () => undefined,
        api: async url =>
          url.startsWith(server.url)
            ? { provider: 'github', apiBaseUrl: github.apiBaseUrl, authorization: `Bearer ${github.token}` }
            : undefined,
      };
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex,
        logger: silentLogger,
        workDir: path.join(root, 'work'),
        clock: { now: () => new Date(Date.now() + ahead) },
        credentials,
        worker: { pollIntervalMs: 50 },
      });
      engine.start();
    });
    afterAll(async () => {
      process.env.PATH = oldPath;
      await engine.close();
      await knex.destroy();
      await github.close();
      await server.close();
      await registry.close();
      await fsp.rm(root, { recursive: true, force: true });
    });

    /** A fresh GitOps repository seeded from the example, and the example pipeline pointed at loopback. */
    async function setUp(layout: string, project: string) {
      await fsp.rm(bare(), { recursive: true, force: true });
      const files = Object.fromEntries(
        Object.entries(filesUnder(path.join(repoRoot, 'examples', layout, 'gitops'))).map(([f, text]) => [
          f,
          text.replaceAll(EXAMPLE_IMAGE, `${registry.host}/example/guestbook`),
        ]),
      );
      await createBareRepo(path.join(root, 'repos', 'example'), 'guestbook-gitops', [
        { files, message: 'environments' },
      ]);
      const text = fs
        .readFileSync(path.join(repoRoot, 'examples', layout, 'pipeline.yaml'), 'utf8')
        .replaceAll(EXAMPLE_IMAGE, `${registry.host}/example/guestbook`)
        .replaceAll(EXAMPLE_REPO, `${server.url}/${GITOPS}.git`);
      expect(text).toContain(`namespace: ${project}`);
      await engine.projects.applyManifests(project, text);
      const [found] = await engine.workers.discovery.runDue();
      expect(found.error).toBeUndefined();
      return (await engine.freight.list(project))[0];
    }

    async function promote(project: string, stage: string, freight: string) {
      const p = await waitFor(engine, project, (await engine.promotions.promote(project, stage, freight)).id, final);
      expect({ stage, phase: p.phase, message: p.message }).toEqual({ stage, phase: 'Succeeded', message: undefined });
      // the stage verifies the freight (it has no AnalysisTemplates: once healthy), then it may go on
      expect((await verificationOf(engine, project, stage, p.id)).phase).toBe('Successful');
      return p;
    }

    it('rendered manifests on one branch per environment: each stage commits plain YAML to env/<stage>, main never changes', async () => {
      const freight = await setUp('branch-per-env', 'guestbook-branches');
      expect(freight.images).toEqual([expect.objectContaining({ tag: '1.0.0' })]);

      for (const stage of ['dev', 'staging', 'prod']) await promote('guestbook-branches', stage, freight.id);
      expect(await count('main')).toBe(1);
      for (const stage of ['dev', 'staging', 'prod']) {
        const rendered = await show(`env/${stage}`, 'manifests.yaml');
        expect(rendered).toContain(`image: ${registry.host}/example/guestbook:1.0.0`);
        expect(rendered).toContain(`namespace: guestbook-${stage}`);
        // only the rendered output is on the branch: git-clear emptied it first
        expect((await git(bare(), 'ls-tree', '--name-only', `env/${stage}`)).split('\n')).toEqual(['manifests.yaml']);
      }
      expect(await show('env/prod', 'manifests.yaml')).toContain('replicas: 3');

      // a new image version: dev gets a second commit on its branch; the others keep theirs
      await registry.pushImage('example/guestbook', '1.1.0');
      await engine.warehouses.refresh('guestbook-branches', 'guestbook');
      await engine.workers.discovery.runDue();
      const newer = (await engine.freight.list('guestbook-branches'))[0];
      expect(newer.images[0].tag).toBe('1.1.0');
      const p = await promote('guestbook-branches', 'dev', newer.id);
      expect(await show('env/dev', 'manifests.yaml')).toContain('guestbook:1.1.0');
      expect(await count('env/dev')).toBe(3); // the branch's start, 1.0.0, 1.1.0
      expect(await count('env/staging')).toBe(2);
      // the PromotionTask's compose-output speaks for the task: outputs of the calling step
      const composed = p.steps.find(s => s.alias === 'render::step-7');
      expect(composed?.outputs).toEqual({
        branch: 'env/dev',
        commit: (await git(bare(), 'rev-parse', 'env/dev')).trim(),
      });
    });

    it('one folder per environment on main, prod through a pull request that the promotion waits for', async () => {
      const freight = await setUp('folder-per-env', 'guestbook-folders');
      const tag = freight.images[0].tag; // the newest the registry has: 1.0.0, or 1.1.0 after the test above
      await promote('guestbook-folders', 'dev', freight.id);
      await promote('guestbook-folders', 'staging', freight.id);
      expect(await show('main', 'env/dev/values.yaml')).toBe(
        `# guestbook in dev: image.tag is set by Stagecoach promotions\nimage:\n  repository: ${registry.host}/example/guestbook\n  tag: ${tag}\nreplicas: 1`,
      );
      expect(await show('main', 'env/staging/values.yaml')).toContain(`tag: ${tag}`);
      expect(await count('main')).toBe(3);

      // prod: a branch of its own and a pull request; the promotion waits, its stage kept
      const queued = await engine.promotions.promote('guestbook-folders', 'prod', freight.id);
      const waiting = await waitFor(engine, 'guestbook-folders', queued.id, p => !!p.waitingUntil || final(p));
      expect({ phase: waiting.phase, message: waiting.message }).toEqual({ phase: 'Running', message: undefined });
      expect(waiting.steps.map(s => [s.alias, s.status])).toEqual([
        ['task-1::step-1', 'Succeeded'],
        ['task-1::update', 'Succeeded'],
        ['task-1::step-3', 'Succeeded'],
        ['push', 'Succeeded'],
        ['open-pr', 'Succeeded'],
        ['wait', 'Running'],
      ]);
      const branch = `stagecoach/promotion/${queued.id}`;
      expect(await show(branch, 'env/prod/values.yaml')).toContain(`tag: ${tag}`);
      expect(await show('main', 'env/prod/values.yaml')).toContain('tag: 0.0.0');
      const [pull] = github.pulls(GITOPS);
      expect(pull).toMatchObject({ head: branch, base: 'main', state: 'open', title: `Deploy ${tag} to prod`, labels: ['deploy', 'prod'] });
      expect(waiting.steps[4].outputs).toMatchObject({ pr: { id: pull.number } });

      // still open at the next look: it keeps waiting
      ahead += 31_000;
      engine.workers.promotion.wake();
      const looked = await waitFor(engine, 'guestbook-folders', queued.id, p => p.waitingUntil !== waiting.waitingUntil);
      expect(looked.phase).toBe('Running');

      // a reviewer merges it: at the next look the promotion succeeds with the merge commit
      const merge = await github.mergeByHand(GITOPS, pull.number);
      ahead += 31_000;
      engine.workers.promotion.wake();
      const done = await waitFor(engine, 'guestbook-folders', queued.id, final);
      expect(done.phase).toBe('Succeeded');
      expect(done.steps[5].outputs).toMatchObject({ commit: merge, pr: { merged: true, open: false } });
      expect(await show('main', 'env/prod/values.yaml')).toContain(`tag: ${tag}`);
      expect((await engine.stages.get('guestbook-folders', 'prod')).currentFreight?.id).toBe(freight.id);
    });
  });
});
