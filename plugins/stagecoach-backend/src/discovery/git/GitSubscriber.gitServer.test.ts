import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import { createHash } from 'node:crypto';
import { DEFAULT_EGRESS_POLICY, EgressPolicy } from '../../integrations/http/egress';
import { gitSubscriptionSchema } from './schema';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { builtinSubscriptionKinds } from '../kinds';
import { normalizeGitURL } from '../../util/gitUrl';
import { GitSubscriber } from './GitSubscriber';

/**
 * GitSubscriber against real git over smart HTTP (git http-backend on loopback), with
 * partial clone allowed on the server as on GitHub, GitLab and Gitea.
 */
describe('GitSubscriber (real git over HTTP)', () => {
  let root: string;
  let repos: string;
  let server: GitHttpServer;
  let cacheDir: string;
  let subscriber: GitSubscriber;
  let monoURL: string;
  const AUTHOR = 'Stagecoach Demo <demo@stagecoach.invalid>';

  const bare = (name: string) => path.join(repos, `${name}.git`);
  const sub = (over: Record<string, unknown>) => gitSubscriptionSchema.parse({ repoURL: monoURL, ...over });
  const discover = async (over: Record<string, unknown>) => {
    const s = sub(over);
    return subscriber.discover(s, await subscriber.probe(s));
  };
  const messages = async (over: Record<string, unknown>) => (await discover(over)).listed.map(c => c.message);
  const tags = async (over: Record<string, unknown>) => (await discover(over)).listed.map(c => c.tag);
  const firstParents = async (repo: string, ref: string) =>
    (await git(bare(repo), 'rev-list', '--first-parent', ref)).split('\n');

  /** Commits to a branch of a served repository through a clone, as a developer would. */
  async function commitTo(repo: string, branch: string, files: Record<string, string>, message: string) {
    const work = await fs.mkdtemp(path.join(root, 'work-'));
    await git(work, 'clone', '-q', bare(repo), '.');
    await git(work, 'checkout', '-q', '-B', branch, `origin/${branch}`);
    for (const [file, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(work, file)), { recursive: true });
      await fs.writeFile(path.join(work, file), text);
    }
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', message);
    await git(work, 'push', '-q', 'origin', `HEAD:refs/heads/${branch}`);
    await fs.rm(work, { recursive: true, force: true });
    return git(bare(repo), 'rev-parse', `refs/heads/${branch}`);
  }

  /** `count` commits that only touch noise.txt, on a new branch from `from`, written by fast-import (fast). */
  function noiseBranch(repo: string, branch: string, from: string, count: number) {
    let stream = '';
    for (let i = 1; i <= count; i++) {
      const message = `noise ${i}`;
      const content = `${i}\n`;
      stream +=
        `commit refs/heads/${branch}\nmark :${i}\ncommitter Noise <noise@example.invalid> ${1_700_000_000 + i} +0000\n` +
        `data ${message.length}\n${message}\n${i === 1 ? `from ${from}` : `from :${i - 1}`}\n` +
        `M 644 inline noise.txt\ndata ${content.length}\n${content}\n`;
    }
    execFileSync('git', ['fast-import', '--quiet'], {
      cwd: bare(repo),
      input: stream,
      env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
  }

  const ALICE = 'Alice <alice@example.invalid>';
  const BOB = 'Bob <bob@example.invalid>';
  const RELEASER = 'Releaser <release@example.invalid>';
  /** Seconds since the epoch as RFC 3339. */
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();
  const DAY = 86_400;
  const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z

  /**
   * `dated`: three commits a day apart with chosen authors and dates (fast-import), tagged
   * v1.0.0 (lightweight), v1.1.0 and v2.0.0 (annotated, by RELEASER, hours after their commit).
   */
  function datedRepo(dir: string) {
    execFileSync('git', ['init', '-q', '--bare', dir], { env: { PATH: process.env.PATH } });
    const commits = [
      { author: ALICE, time: T0, subject: 'feat: one' },
      { author: BOB, time: T0 + DAY, subject: 'fix: two [skip ci]' },
      { author: ALICE, time: T0 + 2 * DAY, subject: 'feat: three' },
    ];
    let stream = '';
    commits.forEach((c, i) => {
      const file = `${i + 1}\n`;
      stream +=
        `commit refs/heads/main\nmark :${i + 1}\nauthor ${c.author} ${c.time} +0000\ncommitter ${c.author} ${c.time} +0000\n` +
        `data ${c.subject.length}\n${c.subject}\n${i ? `from :${i}\n` : ''}M 644 inline file.txt\ndata ${file.length}\n${file}\n`;
    });
    stream += 'reset refs/tags/v1.0.0\nfrom :1\n\n';
    for (const [tag, mark, time, message] of [
      ['v1.1.0', 2, T0 + DAY + 3600, 'Release 1.1.0'],
      ['v2.0.0', 3, T0 + 2 * DAY + 3600, 'Major release'],
    ] as const) {
      stream += `tag ${tag}\nfrom :${mark}\ntagger ${RELEASER} ${time} +0000\ndata ${message.length}\n${message}\n`;
    }
    execFileSync('git', ['fast-import', '--quiet'], {
      cwd: dir,
      input: stream,
      env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    execFileSync('git', ['symbolic-ref', 'HEAD', 'refs/heads/main'], { cwd: dir });
    execFileSync('git', ['config', 'uploadpack.allowFilter', 'true'], { cwd: dir });
  }

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'git-subscriber-'));
    repos = path.join(root, 'repos');
    await createBareRepo(repos, 'mono', [
      { files: { 'README.md': 'mono\n' }, message: 'init' },
      { files: { 'apps/api/main.go': 'package main // 1\n' }, message: 'api v1', tag: 'v1.0.0' },
      { files: { 'apps/web/index.ts': 'export {}; // 1\n' }, message: 'web v1', tag: 'v1.1.0', annotated: true },
      { files: { 'docs/guide.md': 'guide\n' }, message: 'docs', tag: 'v1.2.0' },
      { files: { 'apps/api/README.md': 'api\n' }, message: 'api readme', tag: 'v1.3.0' },
      { files: { 'apps/api/main.go': 'package main // 2\n' }, message: 'api v2' },
    ]);
    await createBareRepo(repos, 'empty', []);
    for (const repo of ['mono', 'empty']) await git(bare(repo), 'config', 'uploadpack.allowFilter', 'true');

    // release/1.x: from "web v1", with a hotfix of the api
    await git(bare('mono'), 'branch', 'release/1.x', 'v1.1.0');
    await commitTo('mono', 'release/1.x', { 'apps/api/main.go': 'package main // 1.1\n' }, 'hotfix');
    // merged: a feature branch merged with a merge commit
    await git(bare('mono'), 'branch', 'feature', 'main');
    await commitTo('mono', 'feature', { 'apps/web/feature.ts': 'export {};\n' }, 'web feature');
    await git(bare('mono'), 'branch', 'merged', 'main');
    const work = await fs.mkdtemp(path.join(root, 'work-'));
    await git(work, 'clone', '-q', '-b', 'merged', bare('mono'), '.');
    await git(work, 'merge', '-q', '--no-ff', '-m', 'merge the web feature', 'origin/feature');
    await git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/merged');
    // busy: 250 commits that only touch noise.txt, on top of main
    noiseBranch('mono', 'busy', await git(bare('mono'), 'rev-parse', 'main'), 250);

    datedRepo(bare('dated'));

    server = await startGitHttpServer({ root: repos });
    monoURL = `${server.url}/mono.git`;
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    cacheDir = await fs.mkdtemp(path.join(root, 'cache-'));
    // the Git server is on loopback, which production's default policy denies
    subscriber = new GitSubscriber(cacheDir, { egress: LOOPBACK_ALLOWED });
  });

  describe('the egress policy (loopback Git server)', () => {
    it('refuses a repoURL the policy denies before git runs, naming the rule, for every strategy', async () => {
      const denying = new GitSubscriber(cacheDir, { egress: DEFAULT_EGRESS_POLICY });
      for (const strategy of ['NewestFromBranch', 'SemVer']) {
        await expect(denying.probe(sub({ commitSelectionStrategy: strategy }))).rejects.toThrow(
          `request to ${monoURL} refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback) — see stagecoach.egress`,
        );
      }
      const metadata = gitSubscriptionSchema.parse({ repoURL: 'http://169.254.169.254/x.git' });
      await expect(subscriber.probe(metadata)).rejects.toThrow('169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata)');
      expect(await fs.readdir(cacheDir)).toEqual([]);
    });

    it('checks again before fetching, whatever the probe saw: a name that resolves to a denied address is refused', async () => {
      const resolvesToDenied = new GitSubscriber(cacheDir, {
        egress: new EgressPolicy({ deny: [{ cidr: '10.0.0.0/8' }], resolve: async () => [{ address: '10.1.2.3', family: 4 }] }),
      });
      const s = gitSubscriptionSchema.parse({ repoURL: 'http://git.internal.test/mono.git' });
      const probed = { hash: 'x', state: { ref: 'refs/heads/main', commit: 'a'.repeat(40) } };
      await expect(resolvesToDenied.discover(s, probed)).rejects.toThrow(
        'git.internal.test resolves to 10.1.2.3, which is in the denied range 10.0.0.0/8 (stagecoach.egress.deny[0])',
      );
    });
  });

  describe('NewestFromBranch', () => {
    it('is the default: the newest commits of the default branch, newest first, with their metadata', async () => {
      const s = sub({});
      expect(s.commitSelectionStrategy).toBe('NewestFromBranch');
      const found = await subscriber.discover(s, await subscriber.probe(s));
      const main = await firstParents('mono', 'main');
      expect(found.listed.map(c => c.id)).toEqual(main);
      expect(found.latest).toEqual({
        repoURL: monoURL,
        id: main[0],
        branch: 'main',
        message: 'api v2',
        author: AUTHOR,
        committer: AUTHOR,
        committedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
      });
      expect(found.listed.map(c => c.message)).toEqual(['api v2', 'api readme', 'docs', 'web v1', 'api v1', 'init']);
      // Kargo's freight ID: a commit without a tag is normURL:sha; branch and metadata are not part of it
      expect(builtinSubscriptionKinds.freightId('app', { commits: [found.latest!], images: [], charts: [] })).toBe(
        createHash('sha1').update(`Warehouse/app:${normalizeGitURL(monoURL)}:${main[0]}`).digest('hex'),
      );
    });

    it('follows a named branch, and the branch the remote HEAD names when there is none', async () => {
      const release = await discover({ branch: 'release/1.x' });
      expect(release.latest).toMatchObject({ branch: 'release/1.x', message: 'hotfix' });
      expect(release.listed.map(c => c.message)).toEqual(['hotfix', 'web v1', 'api v1', 'init']);

      await git(bare('mono'), 'symbolic-ref', 'HEAD', 'refs/heads/release/1.x');
      try {
        const probe = await subscriber.probe(sub({}));
        expect(probe.hash).not.toBe((await subscriber.probe(sub({ branch: 'main' }))).hash);
        expect((await subscriber.discover(sub({}), probe)).latest).toMatchObject({
          branch: 'release/1.x',
          message: 'hotfix',
        });
      } finally {
        await git(bare('mono'), 'symbolic-ref', 'HEAD', 'refs/heads/main');
      }
    });

    it('reads first-parent history: a merge commit carries what it merged', async () => {
      expect(await messages({ branch: 'merged', discoveryLimit: 3 })).toEqual([
        'merge the web feature',
        'api v2',
        'api readme',
      ]);
      expect(await messages({ branch: 'merged', includePaths: ['apps/web'] })).toEqual([
        'merge the web feature',
        'web v1',
      ]);
    });

    it('keeps at most discoveryLimit commits', async () => {
      expect(await messages({ discoveryLimit: 2 })).toEqual(['api v2', 'api readme']);
      expect(await messages({ discoveryLimit: 1, includePaths: ['apps'] })).toEqual(['api v2']);
    });

    it('includePaths / excludePaths: prefixes, globs and regular expressions', async () => {
      expect(await messages({ includePaths: ['apps/api'] })).toEqual(['api v2', 'api readme', 'api v1']);
      expect(await messages({ includePaths: ['apps/api'], excludePaths: ['glob:**/*.md'] })).toEqual([
        'api v2',
        'api v1',
      ]);
      expect(await messages({ includePaths: ['regex:\\.ts$'] })).toEqual(['web v1']);
      expect(await messages({ includePaths: ['regexp:^docs/'] })).toEqual(['docs']);
      expect(await messages({ includePaths: ['glob:apps/*/README.md', 'docs'] })).toEqual(['api readme', 'docs']);
      expect(await messages({ excludePaths: ['apps'] })).toEqual(['docs', 'init']);
      expect(await messages({ excludePaths: ['apps', 'glob:*.md', 'docs/'] })).toEqual([]);
      expect((await discover({ includePaths: ['nowhere'] })).latest).toBeUndefined();
    });

    it('reads history in batches until enough commits match', async () => {
      // 250 commits of noise first: three batches (100, 200, 400) reach the api commits
      const found = await discover({ branch: 'busy', includePaths: ['apps/api'], discoveryLimit: 2 });
      expect(found.listed.map(c => c.message)).toEqual(['api v2', 'api readme']);
      expect(await messages({ branch: 'busy', excludePaths: ['noise.txt'], discoveryLimit: 3 })).toEqual([
        'api v2',
        'api readme',
        'docs',
      ]);
      expect(await messages({ branch: 'busy', discoveryLimit: 2 })).toEqual(['noise 250', 'noise 249']);
    });

    it('fetches no file content: the mirror holds commits and trees only', async () => {
      await discover({ includePaths: ['apps/api'], excludePaths: ['glob:**/*.md'] });
      const [mirror] = await fs.readdir(path.join(cacheDir, 'git'));
      const types = await git(
        path.join(cacheDir, 'git', mirror),
        'cat-file',
        '--batch-all-objects',
        '--batch-check=%(objecttype)',
      );
      expect(new Set(types.split('\n'))).toEqual(new Set(['commit', 'tree']));
    });

    it('the probe is one ls-remote: the same hash until the branch moves, whatever else is pushed', async () => {
      await createBareRepo(repos, 'moving', [{ files: { 'a.txt': '1\n' }, message: 'one' }]);
      const s = gitSubscriptionSchema.parse({ repoURL: `${server.url}/moving.git` });
      const first = await subscriber.probe(s);
      expect((await subscriber.probe(s)).hash).toBe(first.hash);
      await expect(fs.readdir(path.join(cacheDir, 'git'))).rejects.toThrow(/ENOENT/); // no mirror for a probe

      await git(bare('moving'), 'branch', 'other', 'main');
      await commitTo('moving', 'other', { 'b.txt': '2\n' }, 'elsewhere');
      await git(bare('moving'), 'tag', 'v9.9.9', 'other');
      expect((await subscriber.probe(s)).hash).toBe(first.hash);

      expect((await subscriber.discover(s, first)).latest?.message).toBe('one');
      const two = await commitTo('moving', 'main', { 'a.txt': '2\n' }, 'two');
      const second = await subscriber.probe(s);
      expect(second.hash).not.toBe(first.hash);
      expect((await subscriber.discover(s, second)).latest).toMatchObject({ id: two, message: 'two', branch: 'main' });
    });

    it('a branch that does not exist is an error that names it, without credentials', async () => {
      const withCredentials = monoURL.replace('http://', 'http://ci:s3cret@');
      // manifests refuse such URLs; the subscriber still keeps credentials out of what it says
      const s = { ...gitSubscriptionSchema.parse({ repoURL: monoURL, branch: 'nope' }), repoURL: withCredentials };
      const failure = subscriber.probe(s);
      await expect(failure).rejects.toThrow(`branch "nope" not found in ${monoURL.replace('http://', 'http://***@')}`);
      await expect(failure).rejects.not.toThrow(/s3cret/);
    });

    it('a branch deleted between probe and discovery is the same error', async () => {
      await git(bare('mono'), 'branch', 'short-lived', 'main');
      const s = sub({ branch: 'short-lived' });
      const probe = await subscriber.probe(s);
      await git(bare('mono'), 'branch', '-D', 'short-lived');
      await expect(subscriber.discover(s, probe)).rejects.toThrow(`branch "short-lived" not found in ${monoURL}`);
    });

    it('an empty repository selects nothing', async () => {
      const s = gitSubscriptionSchema.parse({ repoURL: `${server.url}/empty.git` });
      expect(await subscriber.discover(s, await subscriber.probe(s))).toEqual({ latest: undefined, listed: [] });
    });
  });

  describe('tag strategies with includePaths / excludePaths: the tagged commit’s own changes count', () => {
    it('SemVer', async () => {
      expect(await tags({ commitSelectionStrategy: 'SemVer' })).toEqual(['v1.3.0', 'v1.2.0', 'v1.1.0', 'v1.0.0']);
      expect(await tags({ commitSelectionStrategy: 'SemVer', includePaths: ['apps/api'] })).toEqual([
        'v1.3.0',
        'v1.0.0',
      ]);
      expect(
        await tags({ commitSelectionStrategy: 'SemVer', includePaths: ['apps/api'], excludePaths: ['glob:**/*.md'] }),
      ).toEqual(['v1.0.0']);
      expect(
        await tags({ commitSelectionStrategy: 'SemVer', semverConstraint: '<1.3.0', excludePaths: ['docs'] }),
      ).toEqual(['v1.1.0', 'v1.0.0']);
      expect(await tags({ commitSelectionStrategy: 'SemVer', includePaths: ['apps'], discoveryLimit: 2 })).toEqual([
        'v1.3.0',
        'v1.1.0',
      ]);
    });

    it('Lexical and NewestTag, annotated tags included', async () => {
      expect(await tags({ commitSelectionStrategy: 'Lexical', includePaths: ['regex:^apps/web/'] })).toEqual([
        'v1.1.0',
      ]);
      expect(await tags({ commitSelectionStrategy: 'NewestTag', includePaths: ['docs'] })).toEqual(['v1.2.0']);
      const found = await discover({ commitSelectionStrategy: 'NewestTag', includePaths: ['apps/web'] });
      expect(found.latest).toEqual({
        repoURL: monoURL,
        tag: 'v1.1.0',
        id: await git(bare('mono'), 'rev-parse', 'v1.1.0^{commit}'),
      });
      expect((await discover({ commitSelectionStrategy: 'Lexical', includePaths: ['nowhere'] })).latest).toBeUndefined();
    });

    it('without path filters SemVer and Lexical need no mirror', async () => {
      expect(await tags({ commitSelectionStrategy: 'Lexical', discoveryLimit: 2 })).toEqual(['v1.3.0', 'v1.2.0']);
      await expect(fs.readdir(path.join(cacheDir, 'git'))).rejects.toThrow(/ENOENT/);
    });
  });

  describe('expressionFilter and since (Kargo fields) on the dated repository', () => {
    const dated = (over: Record<string, unknown>) => gitSubscriptionSchema.parse({ repoURL: `${server.url}/dated.git`, ...over });
    const run = async (over: Record<string, unknown>) => {
      const s = dated(over);
      return subscriber.discover(s, await subscriber.probe(s));
    };
    const subjects = async (over: Record<string, unknown>) => (await run(over)).listed.map(c => c.message);
    const tagsOf = async (over: Record<string, unknown>) => (await run(over)).listed.map(c => c.tag);

    it('NewestFromBranch: the expression sees id, commitDate, author, committer and subject of each commit', async () => {
      expect(await subjects({})).toEqual(['feat: three', 'fix: two [skip ci]', 'feat: one']);
      expect(await subjects({ expressionFilter: `author == "${ALICE}"` })).toEqual(['feat: three', 'feat: one']);
      expect(await subjects({ expressionFilter: `\${{ committer != "${BOB}" && subject != "feat: three" }}` })).toEqual([
        'feat: one',
      ]);
      // dates are times, as in Kargo
      expect(await subjects({ expressionFilter: `commitDate >= date("${at(T0 + DAY)}")` })).toEqual([
        'feat: three',
        'fix: two [skip ci]',
      ]);
      const second = await git(bare('dated'), 'rev-parse', 'main~1');
      expect((await run({ expressionFilter: `id == "${second}"` })).latest).toMatchObject({ id: second, author: BOB });
      expect((await run({ expressionFilter: 'subject == "nothing"' })).latest).toBeUndefined();
    });

    it('NewestFromBranch: since keeps the commits from that time on, and history is read no further', async () => {
      expect(await subjects({ since: at(T0 + DAY / 2) })).toEqual(['feat: three', 'fix: two [skip ci]']);
      expect(await subjects({ since: at(T0 + DAY) })).toEqual(['feat: three', 'fix: two [skip ci]']);
      expect(await subjects({ since: '2023-11-16T22:13:20+00:00', expressionFilter: `author == "${BOB}"` })).toEqual([]);
      // busy: 250 commits dated T0+1 … T0+250 on top of main, whose commits are newer (made today):
      // reading stops at the first commit before since, so main's commits are never reached
      expect(await messages({ branch: 'busy', since: at(T0 + 240) })).toEqual(
        Array.from({ length: 11 }, (_, i) => `noise ${250 - i}`),
      );
    });

    it('tags: the expression sees tag, id, creatorDate, author, committer, subject, tagger and annotation', async () => {
      const semver = { commitSelectionStrategy: 'SemVer' };
      expect(await tagsOf(semver)).toEqual(['v2.0.0', 'v1.1.0', 'v1.0.0']);
      // a lightweight tag has no tagger and no annotation
      expect(await tagsOf({ ...semver, expressionFilter: `tagger == "${RELEASER}"` })).toEqual(['v2.0.0', 'v1.1.0']);
      expect(await tagsOf({ ...semver, expressionFilter: 'annotation == "Major release"' })).toEqual(['v2.0.0']);
      expect(await tagsOf({ ...semver, expressionFilter: `author == "${ALICE}" and committer == "${ALICE}"` })).toEqual([
        'v2.0.0',
        'v1.0.0',
      ]);
      expect(await tagsOf({ ...semver, expressionFilter: 'subject == "fix: two [skip ci]"' })).toEqual(['v1.1.0']);
      // creatorDate: the tagger's date of an annotated tag, the commit's of a lightweight one
      expect(
        await tagsOf({ ...semver, expressionFilter: `creatorDate < date("${at(T0 + 1)}") || creatorDate == date("${at(T0 + DAY + 3600)}")` }),
      ).toEqual(['v1.1.0', 'v1.0.0']);
      const first = await git(bare('dated'), 'rev-parse', 'v1.0.0');
      expect(await run({ ...semver, expressionFilter: 'tag == "v1.0.0"' })).toEqual({
        latest: { repoURL: `${server.url}/dated.git`, id: first, tag: 'v1.0.0' },
        listed: [{ repoURL: `${server.url}/dated.git`, id: first, tag: 'v1.0.0' }],
      });
      // after semverConstraint, before discoveryLimit
      expect(
        await tagsOf({ ...semver, semverConstraint: '<2', expressionFilter: 'tag != "v1.1.0"', discoveryLimit: 1 }),
      ).toEqual(['v1.0.0']);
      expect(await tagsOf({ commitSelectionStrategy: 'Lexical', expressionFilter: 'annotation != ""' })).toEqual([
        'v2.0.0',
        'v1.1.0',
      ]);
    });

    it('tags: since compares the creator date', async () => {
      expect(await tagsOf({ commitSelectionStrategy: 'SemVer', since: at(T0 + 1) })).toEqual(['v2.0.0', 'v1.1.0']);
      expect(await tagsOf({ commitSelectionStrategy: 'NewestTag', since: at(T0 + DAY + 3600) })).toEqual([
        'v2.0.0',
        'v1.1.0',
      ]);
      expect(await tagsOf({ commitSelectionStrategy: 'NewestTag', since: at(T0 + 3 * DAY) })).toEqual([]);
    });

    it('an expression that fails or is not true or false fails the discovery, naming the commit or tag', async () => {
      const tip = await git(bare('dated'), 'rev-parse', 'main');
      await expect(run({ expressionFilter: 'subject' })).rejects.toThrow(
        `expressionFilter must be true or false, but on commit ${tip} it is "feat: three"`,
      );
      await expect(run({ commitSelectionStrategy: 'SemVer', expressionFilter: 'nosuchname == 1' })).rejects.toThrow(
        /^expressionFilter failed on tag "v2\.0\.0": /,
      );
    });

    it('refuses, when applied, an expression that does not parse, a since that is not RFC 3339, and allowTags / ignoreTags', () => {
      const problems = (over: Record<string, unknown>) => {
        const r = gitSubscriptionSchema.safeParse({ repoURL: 'https://git.example.com/a.git', ...over });
        return r.success ? [] : r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`);
      };
      expect(problems({ expressionFilter: 'author ==' })).toEqual([expect.stringMatching(/^expressionFilter: cannot parse/)]);
      expect(problems({ since: 'yesterday' })).toEqual([
        'since: must be an RFC 3339 date and time, such as 2026-01-31T00:00:00Z',
      ]);
      expect(problems({ allowTags: '^v1' })).toEqual([
        expect.stringMatching(/^allowTags: allowTags is deprecated in Kargo and fails discovery from v1\.11: write allowTagsRegexes/),
      ]);
      expect(problems({ ignoreTags: ['latest'] })).toEqual([expect.stringMatching(/^ignoreTags: .*write ignoreTagsRegexes/)]);
      expect(problems({ semverConstraint: '>>1.0' })).toEqual([
        'semverConstraint: semverConstraint ">>1.0" is not a semver constraint (such as ^1.2.0, ~1.4, >=1.0 <2 or >=1.0, <2)',
      ]);
      expect(problems({ semverConstraint: '>=1.0, <2', blobless: true, insecureSkipTLSVerify: false, since: '2026-01-31T00:00:00+01:00' })).toEqual([]);
    });
  });

  describe('insecureSkipTLSVerify (the Git server behind a TLS front with a self-signed certificate)', () => {
    let front: https.Server;
    let frontURL: string;

    beforeAll(async () => {
      const dir = await fs.mkdtemp(path.join(root, 'tls-'));
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      const target = new URL(server.url);
      // terminates TLS and passes each request to the plain-HTTP Git server, as a load balancer would
      front = https.createServer(
        { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
        (req, res) => {
          const upstream = http.request(
            { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
            answer => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          upstream.on('error', () => res.destroy());
          req.pipe(upstream);
        },
      );
      await new Promise<void>(resolve => front.listen(0, '127.0.0.1', resolve));
      frontURL = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      front.closeAllConnections();
      await new Promise(resolve => front.close(resolve));
    });

    it('reaches the repository only with it, and only for that subscription', async () => {
      const over = (more: Record<string, unknown>) => gitSubscriptionSchema.parse({ repoURL: `${frontURL}/dated.git`, ...more });
      await expect(subscriber.probe(over({}))).rejects.toThrow(/SSL certificate problem|certificate/i);
      for (const strategy of ['NewestFromBranch', 'SemVer']) {
        const s = over({ commitSelectionStrategy: strategy, insecureSkipTLSVerify: true, expressionFilter: `author == "${ALICE}"` });
        const found = await subscriber.discover(s, await subscriber.probe(s));
        expect(found.listed).toHaveLength(2);
      }
      // the setting was this run's only: the same repository without it is refused again, mirror or not
      await expect(subscriber.probe(over({}))).rejects.toThrow(/certificate/i);
      const checked = over({ commitSelectionStrategy: 'NewestTag' });
      await expect(subscriber.discover(checked, { hash: 'x', state: [] })).rejects.toThrow(/certificate/i);
    });
  });
});
