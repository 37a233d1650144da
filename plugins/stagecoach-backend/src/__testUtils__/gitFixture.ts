import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';

export interface GitFixture {
  root: string;
  server: GitHttpServer;
  appURL: string;
  gitopsURL: string;
  /** Reads a file from the tip of a branch of a served bare repository. */
  show(repo: string, ref: string, file: string): Promise<string>;
  commitCount(repo: string, ref: string): Promise<number>;
  /** The full message of a branch's newest commit. */
  log(repo: string, ref: string): Promise<string>;
  /** Adds a tagged commit to the app repository. */
  tagApp(tag: string): Promise<void>;
  close(): Promise<void>;
}

export const VALUES = (env: string) =>
  `# values for ${env}: managed by Stagecoach\nimage:\n  repository: demo/app\n  tag: v0.9.0 # the running version\nreplicas: 1\n`;

/**
 * An app repository with tags v1.0.0..v1.2.0 and a GitOps repository, served over HTTP on
 * loopback; with `credentials`, every request must carry them (HTTP basic auth).
 */
export async function createGitFixture(options: { credentials?: { username: string; password: string } } = {}): Promise<GitFixture> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-git-'));
  const repos = path.join(root, 'repos');
  await createBareRepo(repos, 'app', [
    { files: { 'VERSION': '1.0.0\n' }, message: 'release 1.0.0', tag: 'v1.0.0' },
    { files: { 'VERSION': '1.1.0\n' }, message: 'release 1.1.0', tag: 'v1.1.0', annotated: true },
    { files: { 'VERSION': '1.2.0\n' }, message: 'release 1.2.0', tag: 'v1.2.0' },
    { files: { 'NOTES': 'not a release\n' }, message: 'docs', tag: 'latest' },
  ]);
  await createBareRepo(repos, 'gitops', [
    {
      files: { 'env/dev/values.yaml': VALUES('dev'), 'env/staging/values.yaml': VALUES('staging') },
      message: 'initial environments',
    },
  ]);
  const server = await startGitHttpServer({ root: repos, ...(options.credentials ? { credentials: options.credentials } : {}) });
  const bare = (repo: string) => path.join(repos, `${repo}.git`);
  return {
    root,
    server,
    appURL: `${server.url}/app.git`,
    gitopsURL: `${server.url}/gitops.git`,
    show: (repo, ref, file) => git(bare(repo), 'show', `${ref}:${file}`),
    log: (repo, ref) => git(bare(repo), 'log', '-1', '--format=%B', ref),
    commitCount: async (repo, ref) => Number(await git(bare(repo), 'rev-list', '--count', ref)),
    async tagApp(tag) {
      const work = await fs.mkdtemp(path.join(root, 'work-'));
      await git(work, 'clone', '-q', bare('app'), '.');
      await fs.writeFile(path.join(work, 'VERSION'), `${tag}\n`);
      await git(work, 'commit', '-qam', `release ${tag}`);
      await git(work, 'tag', tag);
      await git(work, 'push', '-q', 'origin', 'HEAD:main', tag);
    },
    async close() {
      await server.close();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/** The demo's pipeline shape (warehouse -> dev -> staging) against a fixture's repositories. */
/** A pipelineYaml set without one of its stages; `staging` then takes freight from the warehouse directly. */
export function pipelineWithoutStage(yaml: string, stage: string): string {
  return yaml
    .split('---\n')
    .filter(doc => !(doc.includes('kind: Stage\n') && doc.includes(`\n  name: ${stage}\n`)))
    .join('---\n')
    .replace(`{stages: [${stage}]}`, '{direct: true}');
}

export function pipelineYaml(f: { appURL: string; gitopsURL: string }, project = 'demo'): string {
  const stage = (name: string, sources: string, env: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
  namespace: ${project}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: ${sources}
  promotionTemplate:
    spec:
      vars:
        - name: gitopsRepo
          value: ${f.gitopsURL}
      steps:
        - uses: git-clone
          config:
            repoURL: \${{ vars.gitopsRepo }}
            checkout:
              - branch: main
                path: ./out
        - uses: yaml-update
          as: update
          config:
            path: ./out/env/${env}/values.yaml
            updates:
              - key: image.tag
                value: \${{ commitFrom("${f.appURL}").tag }}
        - uses: git-commit
          as: commit
          config:
            path: ./out
            message: \${{ outputs.update.commitMessage }}
        - uses: git-push
          config:
            path: ./out
`;
  return `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
  namespace: ${project}
spec:
  interval: 5m
  subscriptions:
    - git:
        repoURL: ${f.appURL}
        commitSelectionStrategy: SemVer
${stage('dev', '{direct: true}', 'dev')}${stage('staging', '{stages: [dev]}', 'staging')}`;
}
