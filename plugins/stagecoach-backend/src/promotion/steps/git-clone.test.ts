import fs from 'node:fs/promises';
import path from 'node:path';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import { createGitFixture, GitFixture, VALUES } from '../../__testUtils__/gitFixture';
import { bareRepo } from '../../__testUtils__/gitWork';
import { LOOPBACK_ALLOWED, loopbackServer } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir, testFreight } from '../../__testUtils__/stepHarness';
import { DEFAULT_EGRESS_POLICY, EgressPolicy } from '../../integrations/http/egress';
import type { ScmCredentials } from '../../integrations/scm/ScmCredentials';
import { gitClone } from './git-clone';

describe('git-clone (against a real Git server over HTTP)', () => {
  let f: GitFixture;
  let work: { dir: string; cleanup(): Promise<void> };

  beforeEach(async () => {
    f = await createGitFixture();
    work = await tempWorkDir();
  });
  afterEach(async () => {
    await work.cleanup();
    await f.close();
  });

  const read = (p: string) => fs.readFile(path.join(work.dir, p), 'utf8');
  const serverCommit = (repo: string, rev: string) => git(bareRepo(f, repo), 'rev-parse', `${rev}^{commit}`);

  it('checks out a branch, a tag and a commit into their folders from one clone, and outputs each commit', async () => {
    const v100 = await serverCommit('app', 'v1.0.0');
    const result = await runStep(
      gitClone,
      {
        repoURL: f.appURL,
        checkout: [
          { branch: 'main', path: './main' },
          { tag: 'v1.1.0', path: './released' },
          { commit: v100.slice(0, 10), path: './old', as: 'oldest' },
        ],
      },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result.status).toBe('Succeeded');
    expect(await read('main/NOTES')).toBe('not a release\n');
    expect(await read('released/VERSION')).toBe('1.1.0\n');
    expect(await read('old/VERSION')).toBe('1.0.0\n');
    expect(result.outputs).toEqual({
      commits: {
        './main': await serverCommit('app', 'main'),
        './released': await serverCommit('app', 'v1.1.0'),
        oldest: v100,
      },
    });
    // the branch checkout is on the branch, so git-push can find it
    expect(await git(path.join(work.dir, 'main'), 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
  });

  it("checks out the remote's default branch when a checkout names no ref", async () => {
    const result = await runStep(gitClone, { repoURL: f.gitopsURL, checkout: [{ path: './out' }] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(result.status).toBe('Succeeded');
    expect(await read('out/env/dev/values.yaml')).toBe(VALUES('dev'));
    expect(await git(path.join(work.dir, 'out'), 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
  });

  it('starts a branch that does not exist yet (create: true) as an orphan with one empty commit, beside main', async () => {
    const result = await runStep(
      gitClone,
      {
        repoURL: f.gitopsURL,
        checkout: [
          { branch: 'main', path: './main' },
          { branch: 'env/dev', create: true, path: './dev' },
        ],
      },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result.status).toBe('Succeeded');
    const dev = path.join(work.dir, 'dev');
    expect(await fs.readdir(dev)).toEqual(['.git']);
    expect(await git(dev, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('env/dev');
    expect(await git(dev, 'log', '--format=%P|%s')).toBe('|Start branch env/dev');
    expect((result.outputs?.commits as Record<string, string>)['./dev']).toBe(await git(dev, 'rev-parse', 'HEAD'));
    // nothing reaches the server before git-push
    expect(await git(bareRepo(f, 'gitops'), 'branch', '--list', 'env/dev')).toBe('');
  });

  it('checks out an existing branch as it is when create: true is set', async () => {
    const result = await runStep(
      gitClone,
      { repoURL: f.gitopsURL, checkout: [{ branch: 'main', create: true, path: './out' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result.status).toBe('Succeeded');
    expect(await read('out/env/staging/values.yaml')).toBe(VALUES('staging'));
  });

  it('starts a new branch in an empty repository', async () => {
    await git(path.join(f.root, 'repos'), 'init', '-q', '--bare', 'empty.git');
    await git(bareRepo(f, 'empty'), 'config', 'http.receivepack', 'true');
    const result = await runStep(
      gitClone,
      { repoURL: `${f.server.url}/empty.git`, checkout: [{ branch: 'main', create: true, path: './out' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result.status).toBe('Succeeded');
    expect(await git(path.join(work.dir, 'out'), 'log', '--format=%s')).toBe('Start branch main');
  });

  it('fails naming the branch, and how to create it, when the branch does not exist', async () => {
    const result = await runStep(
      gitClone,
      { repoURL: f.gitopsURL, checkout: [{ branch: 'env/prod', path: './out' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result).toEqual({
      status: 'Failed',
      message: `branch "env/prod" does not exist in ${f.gitopsURL}: set create: true on its checkout to start it as a new, empty branch`,
    });
  });

  it('fails naming a tag or a commit that is not in the repository', async () => {
    const tag = await runStep(gitClone, { repoURL: f.appURL, checkout: [{ tag: 'v9.9.9', path: './a' }] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(tag).toEqual({ status: 'Failed', message: `tag "v9.9.9" does not exist in ${f.appURL}` });
    const commit = await runStep(
      gitClone,
      { repoURL: f.appURL, checkout: [{ commit: 'deadbeefdeadbeef', path: './b' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(commit).toEqual({ status: 'Failed', message: `commit deadbeefdeadbeef is not in ${f.appURL}` });
  });

  it("checks out the freight's commit of the repository with fromFreight (Kargo v1.0–v1.2), and fails naming what the freight has", async () => {
    const v100 = await serverCommit('app', 'v1.0.0');
    const freight = testFreight({ artifacts: { commits: [{ repoURL: `${f.appURL}/`, id: v100 }], images: [], charts: [] } });
    const result = await runStep(
      gitClone,
      { repoURL: f.appURL, checkout: [{ fromFreight: true, fromOrigin: { kind: 'Warehouse', name: 'app' }, path: './src' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, freight },
    );
    expect(result.status).toBe('Succeeded');
    expect(await read('src/VERSION')).toBe('1.0.0\n');
    expect(result.outputs).toEqual({ commits: { './src': v100 } });

    await expect(
      runStep(gitClone, { repoURL: f.gitopsURL, checkout: [{ fromFreight: true, path: './other' }] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, freight }),
    ).rejects.toThrow(`checkout[0].fromFreight: the freight being promoted (brave-otter) has no commit of ${f.gitopsURL} (its commits: ${f.appURL}/@${v100.slice(0, 7)})`);
    await expect(
      runStep(
        gitClone,
        { repoURL: f.appURL, checkout: [{ fromFreight: true, fromOrigin: { kind: 'Warehouse', name: 'images' }, path: './other' }] },
        { workDir: work.dir, egress: LOOPBACK_ALLOWED, freight },
      ),
    ).rejects.toThrow('checkout[0].fromOrigin names warehouse "images", but the freight being promoted comes from warehouse "app"');
  });

  it('checks out only the listed directories (and the top-level files) with sparse', async () => {
    const result = await runStep(
      gitClone,
      { repoURL: f.gitopsURL, checkout: [{ branch: 'main', path: './out', sparse: ['env/dev'] }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result.status).toBe('Succeeded');
    expect(await read('out/env/dev/values.yaml')).toBe(VALUES('dev'));
    expect(await fs.readdir(path.join(work.dir, 'out', 'env'))).toEqual(['dev']);
  });

  it('accepts Kargo options (blobless, insecureSkipTLSVerify, empty refs) and writes the author into the clone', async () => {
    const result = await runStep(
      gitClone,
      {
        repoURL: f.gitopsURL,
        blobless: true,
        insecureSkipTLSVerify: true,
        author: { name: 'Release Bot', email: 'release-bot@example.com' },
        checkout: [{ branch: 'main', tag: '', commit: '', path: './out' }],
      },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result.status).toBe('Succeeded');
    expect(await read('out/env/dev/values.yaml')).toBe(VALUES('dev'));
    const out = path.join(work.dir, 'out');
    expect(await git(out, 'config', 'user.name')).toBe('Release Bot');
    expect(await git(out, 'config', `http.${f.gitopsURL}.sslVerify`)).toBe('false');
  });

  it('runs again in the same work directory (a retried step) over its own earlier clone', async () => {
    const config = { repoURL: f.gitopsURL, checkout: [{ branch: 'main', path: './out' }] };
    await runStep(gitClone, config, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    await fs.writeFile(path.join(work.dir, 'out', 'stray.txt'), 'left by the first attempt\n');
    const again = await runStep(gitClone, config, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(again.status).toBe('Succeeded');
    expect(await fs.readdir(path.join(work.dir, 'out'))).not.toContain('stray.txt');
  });

  it("refuses to check out over a folder that is not its own", async () => {
    await fs.mkdir(path.join(work.dir, 'out'));
    await fs.writeFile(path.join(work.dir, 'out', 'mine.txt'), 'x');
    await expect(
      runStep(gitClone, { repoURL: f.gitopsURL, checkout: [{ branch: 'main', path: './out' }] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED }),
    ).rejects.toThrow('checkout[0].path "./out" already exists and is not empty');
  });

  it('checks out submodules with recurseSubmodules', async () => {
    const repos = path.join(f.root, 'repos');
    await createBareRepo(repos, 'lib', [{ files: { 'lib.txt': 'library\n' }, message: 'lib' }]);
    const seed = await fs.mkdtemp(path.join(f.root, 'seed-'));
    await git(seed, 'clone', '-q', bareRepo(f, 'app'), '.');
    await git(seed, 'submodule', 'add', '-q', `${f.server.url}/lib.git`, 'vendor/lib');
    await git(seed, 'commit', '-q', '-m', 'add lib');
    await git(seed, 'push', '-q', 'origin', 'HEAD:main');
    const result = await runStep(
      gitClone,
      { repoURL: f.appURL, recurseSubmodules: true, checkout: [{ branch: 'main', path: './out' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(result.status).toBe('Succeeded');
    expect(await read('out/vendor/lib/lib.txt')).toBe('library\n');
  });

  describe('its configuration', () => {
    const problem = (config: unknown) => runStep(gitClone, config, { workDir: work.dir, egress: LOOPBACK_ALLOWED }).then(() => 'accepted', e => e.message);

    it('names what is wrong', async () => {
      expect(await problem({ repoURL: f.appURL, checkout: [{ branch: 'main', tag: 'v1', path: './a' }] })).toBe(
        'config.checkout.0: set at most one of branch, tag, commit and fromFreight',
      );
      expect(await problem({ repoURL: f.appURL, checkout: [{ tag: 'v1.0.0', create: true, path: './a' }] })).toBe(
        'config.checkout.0.create: only a branch can be created: remove tag, commit or fromFreight',
      );
      expect(await problem({ repoURL: f.appURL, checkout: [{ path: './a' }, { branch: 'x', path: './a' }] })).toBe(
        'config.checkout.1: "./a" is used by another checkout (path or as)',
      );
      expect(
        await problem({
          repoURL: f.appURL,
          author: { name: 'A', email: 'a@example.com', signingKey: 'KEY' },
          checkout: [{ path: './a' }],
        }),
      ).toBe('config.author.signingKey: signing commits with a key is not supported: remove signingKey (for commits that GitHub shows as verified, push them with github-push, which has GitHub sign them)');
      expect(await problem({ repoURL: 'git@github.com:a/b.git', checkout: [{ path: './a' }] })).toBe(
        "config.repoURL: SSH URLs are not supported (Stagecoach speaks Git over HTTPS only): use the repository's HTTPS URL, " +
          "e.g. https://github.com/a/b.git, with credentials for github.com in Backstage's integrations config",
      );
      expect(await problem({ repoURL: 'ssh://git@git.example.com:2222/team/app.git', checkout: [{ path: './a' }] })).toContain(
        "use the repository's HTTPS URL, e.g. https://git.example.com/team/app.git,",
      );
      expect(await problem({ repoURL: 'ftp://example.com/a.git', checkout: [{ path: './a' }] })).toBe(
        'config.repoURL: must be an http(s) URL of a Git repository',
      );
      expect(await problem({ repoURL: f.appURL, checkout: [{ path: '../outside' }] })).toBe(
        `checkout[0].path "../outside" leaves the promotion's work directory`,
      );
    });
  });
});

/** Every file under dir (the clone's .git included) whose bytes contain one of the needles. */
async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = await fs.readFile(file);
    if (needles.some(n => bytes.includes(n))) hits.push(file);
  }
  return hits;
}

describe('git-clone with credentials (against a real Git server requiring HTTP basic auth)', () => {
  let root: string;
  let server: GitHttpServer;
  let work: { dir: string; cleanup(): Promise<void> };
  const secret = 's3cret-token-value';

  beforeEach(async () => {
    work = await tempWorkDir();
    root = path.join(work.dir, '..', `${path.basename(work.dir)}-server`);
    await createBareRepo(root, 'private', [{ files: { 'README.md': 'private\n' }, message: 'first' }]);
    server = await startGitHttpServer({ root, credentials: { username: 'ci', password: secret } });
  });
  afterEach(async () => {
    await server.close();
    await work.cleanup();
    await fs.rm(root, { recursive: true, force: true });
  });

  const withCredentials = (password: string): ScmCredentials => ({
    git: async url => (url.startsWith(server.url) ? { username: 'ci', password } : undefined),
    api: async () => undefined,
  });

  it('clones with the credentials configured for the URL, and writes them nowhere in the clone', async () => {
    const repoURL = `${server.url}/private.git`;
    const result = await runStep(
      gitClone,
      { repoURL, checkout: [{ path: './out' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: withCredentials(secret) },
    );
    expect(result.status).toBe('Succeeded');
    expect(await fs.readFile(path.join(work.dir, 'out', 'README.md'), 'utf8')).toBe('private\n');
    expect(await filesContaining(work.dir, [secret, Buffer.from(`ci:${secret}`).toString('base64')])).toEqual([]);
    expect(await git(path.join(work.dir, 'out'), 'remote', 'get-url', 'origin')).toBe(repoURL);
  });

  it('fails saying that credentials are needed when none are configured', async () => {
    const repoURL = `${server.url}/private.git`;
    await expect(runStep(gitClone, { repoURL, checkout: [{ path: './out' }] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      `${repoURL} requires credentials and none are configured for it: add an integration for its host to app-config.yaml, ` +
        "or a git credential Secret for it to the project's manifests (see docs/credentials.md)",
    );
  });

  it("names the project's credential Secret the server refused, never its values", async () => {
    const repoURL = `${server.url}/private.git`;
    const own: ScmCredentials = {
      git: async () => ({ username: 'ci', password: 'stale-token-value', from: 'credential Secret/gitops-repo of project "test"' }),
      api: async () => undefined,
    };
    const error: Error = await runStep(gitClone, { repoURL, checkout: [{ path: './out' }] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: own }).then(
      () => new Error('cloned'),
      e => e,
    );
    expect(error.message).toBe(
      `${repoURL} refused the credential Secret/gitops-repo of project "test": check its username, its password or token and the token's permissions ` +
        "(the Secret is in the project's manifests, see docs/credentials.md)",
    );
    expect(error.message).not.toContain('stale-token-value');
  });

  it('fails saying the credentials were refused, without showing them, when they are wrong', async () => {
    const repoURL = `${server.url}/private.git`;
    const error: Error = await runStep(
      gitClone,
      { repoURL, checkout: [{ path: './out' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: withCredentials('wrong-password-here') },
    ).then(
      () => new Error('cloned'),
      e => e,
    );
    expect(error.message).toBe(
      `${repoURL} refused the configured credentials: check the token and its permissions in the integrations config`,
    );
    expect(error.message).not.toContain('wrong-password-here');
  });
});

describe('git-clone and the egress policy (loopback Git server)', () => {
  let f: GitFixture;
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    f = await createGitFixture();
    work = await tempWorkDir();
  });
  afterEach(async () => {
    await work.cleanup();
    await f.close();
  });
  const clone = (config: Record<string, unknown>, egress: EgressPolicy) =>
    runStep(gitClone, { checkout: [{ path: './out' }], ...config }, { workDir: work.dir, egress });

  it('refuses a repoURL at the cloud metadata address before git runs, naming the rule', async () => {
    await expect(clone({ repoURL: 'http://169.254.169.254/x.git' }, LOOPBACK_ALLOWED)).rejects.toThrow(
      'repoURL: request to http://169.254.169.254/x.git refused by the egress policy: 169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata) — see stagecoach.egress',
    );
    expect(await fs.readdir(work.dir)).toEqual([]);
  });

  it('sends nothing to a loopback port under the default policy', async () => {
    const admin = await loopbackServer((_req, res) => res.writeHead(404).end());
    try {
      await expect(clone({ repoURL: `${admin.url}/x.git` }, DEFAULT_EGRESS_POLICY)).rejects.toThrow(
        'is in the denied range 127.0.0.0/8 (loopback)',
      );
      expect(admin.requests).toEqual([]);
    } finally {
      await admin.close();
    }
  });

  it('resolves the host name and checks every address: a name for the loopback Git server is refused', async () => {
    const port = new URL(f.server.url).port;
    const toLoopback = new EgressPolicy({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    await expect(clone({ repoURL: `http://git.internal.test:${port}/gitops.git` }, toLoopback)).rejects.toThrow(
      'git.internal.test resolves to 127.0.0.1, which is in the denied range 127.0.0.0/8 (loopback)',
    );
  });

  it('refuses a submodule whose URL the policy denies, naming it, and fetches nothing from it', async () => {
    const seed = await fs.mkdtemp(path.join(f.root, 'seed-'));
    await git(seed, 'clone', '-q', bareRepo(f, 'app'), '.');
    await git(seed, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', '--', bareRepo(f, 'gitops'), 'vendor/lib');
    // what .gitmodules says is the repository's business: here, the metadata address
    await git(seed, 'config', '--file', '.gitmodules', 'submodule.vendor/lib.url', 'http://169.254.169.254/lib.git');
    await git(seed, 'commit', '-q', '-am', 'add lib');
    await git(seed, 'push', '-q', 'origin', 'HEAD:main');
    await expect(clone({ repoURL: f.appURL, recurseSubmodules: true }, LOOPBACK_ALLOWED)).rejects.toThrow(
      `the submodule vendor/lib of ${f.appURL}: request to http://169.254.169.254/lib.git refused by the egress policy: 169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata)`,
    );
    expect(await fs.readdir(path.join(work.dir, 'out/vendor/lib'))).toEqual([]);
  });
});
