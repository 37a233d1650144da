import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git } from '@stagecoach/git-server';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { bareRepo } from '../__testUtils__/gitWork';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../__testUtils__/stepHarness';
import { runGit } from '../integrations/git/GitCli';
import { copy } from './steps/copy';
import { fileWrite } from './steps/file-write';
import { gitClone } from './steps/git-clone';
import { gitCommit } from './steps/git-commit';
import { gitPush } from './steps/git-push';
import { helmTemplate } from './steps/helm-template';
import { kustomizeBuild } from './steps/kustomize-build';

/**
 * What a manifest author could try, with the real steps and real git against the real Git
 * server of the other step tests: each attack would create a marker file outside the work
 * directory if it ran a command on the backend. The marker must never appear, and the step
 * that carries the attack fails saying why.
 */
describe('steps cannot escape the work directory or make the backend run commands (real git over HTTP)', () => {
  let f: GitFixture;
  let work: { dir: string; cleanup(): Promise<void> };
  let attacker: string;
  let marker: string;
  /** A script that creates the marker: what an attacker would have git or a hook run. */
  let payload: string;
  /** The same as a helm post-renderer, which passes the manifests through. */
  let renderer: string;
  const originalPath = process.env.PATH;

  beforeEach(async () => {
    f = await createGitFixture();
    work = await tempWorkDir();
    attacker = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-attacker-')));
    marker = path.join(attacker, 'PWNED');
    payload = path.join(attacker, 'payload.sh');
    await fs.writeFile(payload, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
    renderer = path.join(attacker, 'renderer.sh');
    await fs.writeFile(renderer, `#!/bin/sh\ntouch '${marker}'\ncat\n`, { mode: 0o755 });
  });
  afterEach(async () => {
    process.env.PATH = originalPath;
    await work.cleanup();
    await fs.rm(attacker, { recursive: true, force: true });
    await f.close();
  });

  const ctx = () => ({ workDir: work.dir, egress: LOOPBACK_ALLOWED });
  const out = () => path.join(work.dir, 'out');
  const cloneGitops = async () => {
    const cloned = await runStep(gitClone, { repoURL: f.gitopsURL, checkout: [{ branch: 'main', path: './out' }] }, ctx());
    expect(cloned.status).toBe('Succeeded');
  };
  /** Where git-clone keeps the clone behind ./out, wherever that is: the worktree's .git names it. */
  const cloneRepository = async () => {
    const gitDir = /^gitdir: (.+)$/m.exec(await fs.readFile(path.join(out(), '.git'), 'utf8'))![1].trim();
    return path.resolve(gitDir, '..', '..');
  };
  /** The repository's config with the attacker's fsmonitor command added. */
  const withFsmonitor = async (repository: string) =>
    `${await fs.readFile(path.join(repository, 'config'), 'utf8')}[core]\n\tfsmonitor = ${payload}\n`;

  it("refuses a file-write into the clone's config (core.fsmonitor), by any path that leads there", async () => {
    await cloneGitops();
    const repository = await cloneRepository();
    const config = await withFsmonitor(repository);

    // the path to the clone's config, however the clone store is laid out
    const reach = path.relative(work.dir, path.join(repository, 'config'));
    await expect(runStep(fileWrite, { path: reach, contents: config, overwrite: true }, ctx())).rejects.toThrow(
      /leaves the promotion's work directory|is in git's own files/,
    );
    // through a symbolic link to it (a cloned repository can hold one)
    await fs.symlink(path.join(repository, 'config'), path.join(work.dir, 'settings.ini'));
    await expect(runStep(fileWrite, { path: 'settings.ini', contents: config, overwrite: true }, ctx())).rejects.toThrow(
      'path "settings.ini" leads out of the promotion\'s work directory through a symbolic link',
    );
    await fs.symlink(repository, path.join(work.dir, 'store'));
    await expect(runStep(fileWrite, { path: 'store/config', contents: config, overwrite: true }, ctx())).rejects.toThrow(
      'path "store/config" leads out of the promotion\'s work directory through a symbolic link',
    );

    await fs.writeFile(path.join(out(), 'values.yaml'), 'changed: true\n');
    const committed = await runStep(gitCommit, { path: './out', message: 'promote' }, ctx());
    expect(committed.status).toBe('Succeeded');
    expect(existsSync(marker)).toBe(false);
  });

  it("never runs git in a repository a step made, and refuses a .git in any case, as given or where a link leads", async () => {
    await cloneGitops();
    // a repository of the attacker's own (as a copied folder or an unpacked archive could make one)
    const fake = path.join(work.dir, 'fake');
    await fs.mkdir(fake);
    await git(fake, 'init', '-q');
    await git(fake, 'config', 'core.fsmonitor', payload);
    await fs.writeFile(path.join(fake, 'a.txt'), 'a\n');
    await expect(runStep(gitCommit, { path: './fake', message: 'x' }, ctx())).rejects.toThrow(
      'path "./fake" is not a Git working tree (check it out with git-clone first)',
    );
    expect(existsSync(marker)).toBe(false);

    const hook = { contents: `#!/bin/sh\ntouch '${marker}'\n`, overwrite: true };
    for (const given of ['out/.git', 'out/.GIT/hooks/pre-commit', 'other/.Git/config']) {
      await expect(runStep(fileWrite, { path: given, ...hook }, ctx())).rejects.toThrow(
        `path "${given}" is in git's own files (.git), which steps never write to`,
      );
    }
    await fs.symlink(path.join(out(), '.git'), path.join(work.dir, 'pointer'));
    await expect(runStep(fileWrite, { path: 'pointer', ...hook }, ctx())).rejects.toThrow(
      'path "pointer" is in git\'s own files (.git), which steps never write to',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a copy of a cloned executable into the clone\'s hooks, and drops executable bits from copies', async () => {
    // the repository holds an executable script: a legitimate file, until it becomes a hook
    const seed = await fs.mkdtemp(path.join(f.root, 'seed-'));
    await git(seed, 'clone', '-q', bareRepo(f, 'gitops'), '.');
    await fs.mkdir(path.join(seed, 'tools'));
    await fs.writeFile(path.join(seed, 'tools/pre-push'), `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
    await git(seed, 'add', '-A');
    await git(seed, 'commit', '-q', '-m', 'a script');
    await git(seed, 'push', '-q', 'origin', 'HEAD:main');
    await cloneGitops();
    const repository = await cloneRepository();

    const reach = path.relative(work.dir, path.join(repository, 'hooks', 'pre-push'));
    await expect(runStep(copy, { inPath: 'out/tools/pre-push', outPath: reach }, ctx())).rejects.toThrow(
      /leaves the promotion's work directory|is in git's own files/,
    );
    await fs.symlink(path.join(repository, 'hooks'), path.join(work.dir, 'hooks'));
    await expect(runStep(copy, { inPath: 'out/tools/pre-push', outPath: 'hooks/pre-push' }, ctx())).rejects.toThrow(
      'outPath "hooks/pre-push" leads out of the promotion\'s work directory through a symbolic link',
    );
    await runStep(copy, { inPath: 'out/tools/pre-push', outPath: 'out/bin/pre-push' }, ctx());
    expect((await fs.stat(path.join(out(), 'bin/pre-push'))).mode & 0o111).toBe(0);

    await runStep(gitCommit, { path: './out', message: 'promote' }, ctx());
    const pushed = await runStep(gitPush, { path: './out' }, ctx());
    expect(pushed.status).toBe('Succeeded');
    expect(existsSync(marker)).toBe(false);
  });

  it('runs no hook and no fsmonitor command that a repository\'s own config asks for (runGit, whatever the repository)', async () => {
    // a repository whose config and hooks were written by someone else: git still runs nothing of theirs
    const repo = path.join(attacker, 'repo');
    await fs.mkdir(repo);
    await git(repo, 'init', '-q');
    await git(repo, 'config', 'core.fsmonitor', payload);
    await fs.copyFile(payload, path.join(repo, '.git/hooks/pre-commit'));
    await fs.copyFile(payload, path.join(repo, '.git/hooks/post-commit'));
    await fs.chmod(path.join(repo, '.git/hooks/pre-commit'), 0o755);
    await fs.chmod(path.join(repo, '.git/hooks/post-commit'), 0o755);
    await fs.writeFile(path.join(repo, 'a.txt'), 'a\n');
    await runGit(['add', '-A'], { cwd: repo });
    await runGit(['commit', '-q', '-m', 'x'], { cwd: repo });
    expect(await git(repo, 'log', '--format=%s')).toBe('x');
    expect(existsSync(marker)).toBe(false);
  });

  it('never lets git use file:// or a local path, not even for a submodule', async () => {
    // a local repository holding what another team would not share
    const secret = path.join(attacker, 'secret.git');
    await git(attacker, 'clone', '-q', '--bare', bareRepo(f, 'app'), secret);
    for (const url of [`file://${secret}`, secret]) {
      await expect(runGit(['ls-remote', '--', url], {})).rejects.toThrow(/transport 'file' not allowed/);
    }
    await expect(runGit(['ls-remote', '--', `ext::sh -c ${payload}`], {})).rejects.toThrow(
      /transport 'ext' not allowed/,
    );
    await expect(
      runStep(gitClone, { repoURL: `file://${secret}`, checkout: [{ branch: 'main', path: './out' }] }, ctx()),
    ).rejects.toThrow('config.repoURL: must be an http(s) URL of a Git repository');

    const seed = await fs.mkdtemp(path.join(f.root, 'seed-'));
    await git(seed, 'clone', '-q', bareRepo(f, 'gitops'), '.');
    await git(seed, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${secret}`, 'vendor/secret');
    await git(seed, 'commit', '-q', '-m', 'a local submodule');
    await git(seed, 'push', '-q', 'origin', 'HEAD:main');
    await expect(
      runStep(
        gitClone,
        { repoURL: f.gitopsURL, recurseSubmodules: true, checkout: [{ branch: 'main', path: './out' }] },
        ctx(),
      ),
    ).rejects.toThrow(
      `the submodule vendor/secret of ${f.gitopsURL}: request to file://${secret} refused by the egress policy: file: is not http: or https:`,
    );
    expect(existsSync(path.join(out(), 'vendor/secret/VERSION'))).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses branch and tag names that git would read as options, naming the field', async () => {
    await expect(
      runStep(
        gitClone,
        { repoURL: f.gitopsURL, checkout: [{ branch: `--upload-pack=${payload}`, path: './out' }] },
        ctx(),
      ),
    ).rejects.toThrow('config.checkout.0.branch: must not start with "-" (git would read it as an option)');
    await cloneGitops();
    await expect(runStep(gitPush, { path: './out', targetBranch: `--exec=${payload}` }, ctx())).rejects.toThrow(
      'config.targetBranch: must not start with "-" (git would read it as an option)',
    );
    await expect(runStep(gitPush, { path: './out', targetBranch: 'main:refs/heads/other' }, ctx())).rejects.toThrow(
      'config.targetBranch: is not a valid Git branch name',
    );
    expect(existsSync(marker)).toBe(false);
  });

  describe('helm and kustomize', () => {
    /**
     * A stand-in for the helm CLI (no helm on this machine) that reads its arguments as helm
     * does, flags anywhere before `--`, and runs the program named by --post-renderer as helm
     * would; it records its environment.
     */
    async function helmLike() {
      const bin = path.join(attacker, 'bin');
      await fs.mkdir(bin);
      const script = [
        '#!/bin/sh',
        `env > '${attacker}/helm-env'`,
        'for a in "$@"; do',
        '  case "$a" in --) break;; --post-renderer=*) renderer="${a#--post-renderer=}";; esac',
        'done',
        'out="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered\n"',
        'if [ -n "$renderer" ]; then printf "$out" | "$renderer"; else printf "$out"; fi',
        '',
      ].join('\n');
      await fs.writeFile(path.join(bin, 'helm'), script, { mode: 0o755 });
      process.env.PATH = `${bin}${path.delimiter}${originalPath}`;
    }

    beforeEach(async () => {
      await fs.mkdir(path.join(work.dir, 'chart/templates'), { recursive: true });
      await fs.writeFile(path.join(work.dir, 'chart/Chart.yaml'), 'apiVersion: v2\nname: app\nversion: 0.1.0\n');
    });

    it('refuses a releaseName that helm would read as an option (--post-renderer)', async () => {
      await helmLike();
      await expect(
        runStep(
          helmTemplate,
          { path: 'chart', outPath: 'out/app.yaml', releaseName: `--post-renderer=${renderer}` },
          ctx(),
        ),
      ).rejects.toThrow('config.releaseName: must not start with "-" (helm would read it as an option)');
      expect(existsSync(marker)).toBe(false);
      // the stand-in does run a post-renderer it is given, as helm does: the refusal is what kept it from running
      const control = path.join(attacker, 'control.sh');
      await fs.writeFile(control, `#!/bin/sh\ntouch '${attacker}/control-ran'\ncat\n`, { mode: 0o755 });
      await new Promise(resolve =>
        execFile(path.join(attacker, 'bin/helm'), ['template', `--post-renderer=${control}`, 'web', 'chart'], resolve),
      );
      expect(existsSync(path.join(attacker, 'control-ran'))).toBe(true);
      const rendered = await runStep(helmTemplate, { path: 'chart', outPath: 'out/app.yaml', releaseName: 'web' }, ctx());
      expect(rendered.status).toBe('Succeeded');
    });

    it("refuses a chart holding a link out of the work directory (helm would render another's files)", async () => {
      await helmLike();
      await fs.writeFile(path.join(attacker, 'secret.yaml'), 'password: hunter2\n');
      await fs.symlink(path.join(attacker, 'secret.yaml'), path.join(work.dir, 'chart/templates/secret.yaml'));
      await expect(
        runStep(helmTemplate, { path: 'chart', outPath: 'out/app.yaml', releaseName: 'web' }, ctx()),
      ).rejects.toThrow(
        'path "chart" holds a symbolic link (templates/secret.yaml) that leads out of the promotion\'s work directory',
      );
      expect(existsSync(path.join(attacker, 'helm-env'))).toBe(false); // helm never ran
    });

    it("runs helm and kustomize with a HOME of the run's own: no KUBECONFIG, Helm plugins or git config of the machine's user", async () => {
      await helmLike();
      process.env.KUBECONFIG = path.join(attacker, 'kubeconfig');
      try {
        await runStep(helmTemplate, { path: 'chart', outPath: 'out/app.yaml', releaseName: 'web' }, ctx());
        const env = await fs.readFile(path.join(attacker, 'helm-env'), 'utf8');
        expect(env).not.toMatch(/^KUBECONFIG=/m);
        const home = /^HOME=(.+)$/m.exec(env)![1];
        expect(home).not.toBe(os.homedir());
        expect(existsSync(home)).toBe(false); // removed after the run
        expect(/^HELM_PLUGINS=(.+)$/m.exec(env)![1].startsWith(path.dirname(home))).toBe(true);
        expect(env).toMatch(/^GIT_CONFIG_GLOBAL=\/dev\/null$/m);

        // kustomize: a stand-in that records its environment and prints one resource
        await fs.writeFile(
          path.join(attacker, 'bin/kustomize'),
          `#!/bin/sh\nenv > '${attacker}/kustomize-env'\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: k\\n'\n`,
          { mode: 0o755 },
        );
        await fs.writeFile(path.join(work.dir, 'chart/kustomization.yaml'), 'resources: []\n');
        await runStep(kustomizeBuild, { path: 'chart', outPath: 'rendered.yaml' }, ctx());
        const kenv = await fs.readFile(path.join(attacker, 'kustomize-env'), 'utf8');
        expect(kenv).not.toMatch(/^KUBECONFIG=/m);
        expect(/^HOME=(.+)$/m.exec(kenv)![1]).not.toBe(os.homedir());
      } finally {
        delete process.env.KUBECONFIG;
      }
    });
  });
});
