import fs from 'node:fs/promises';
import path from 'node:path';
import { createBareRepo, SeedCommit } from '@stagecoach/git-server';

/** The repositories of the demo, by name (served as `/<name>.git`). */
export const DEMO_REPOS = ['app', 'gitops'] as const;

/** The release tags of the demo application, oldest first. */
export const DEMO_APP_TAGS = ['v1.0.0', 'v1.1.0', 'v1.2.0'];

function appHistory(): SeedCommit[] {
  const readme = (version: string, notes: string) =>
    `# demo/app\n\nThe application the Stagecoach demo promotes.\n\nVersion ${version}: ${notes}\n`;
  const source = (greeting: string) =>
    `export function greet(name: string): string {\n  return \`${greeting}, \${name}!\`;\n}\n`;
  return [
    {
      files: {
        'README.md': readme('1.0.0', 'first release.'),
        'src/greet.ts': source('Hello'),
      },
      message: 'Initial release',
      tag: 'v1.0.0',
    },
    {
      files: {
        'README.md': readme('1.1.0', 'a warmer greeting.'),
        'src/greet.ts': source('Hello there'),
      },
      message: 'Warmer greeting',
      tag: 'v1.1.0',
    },
    {
      // an untagged commit between releases: discovery by SemVer must skip it
      files: { 'CHANGELOG.md': '## Unreleased\n\n- Say good morning.\n' },
      message: 'Changelog for the next release',
    },
    {
      files: {
        'README.md': readme('1.2.0', 'good morning.'),
        'src/greet.ts': source('Good morning'),
        'CHANGELOG.md': '## 1.2.0\n\n- Say good morning.\n',
      },
      message: 'Release 1.2.0',
      tag: 'v1.2.0',
      annotated: true,
    },
  ];
}

/** The Helm-style values of one environment; the comment must survive every promotion. */
export function demoValues(env: string, tag = 'v0.9.0'): string {
  return [
    `# Values for the ${env} environment. Stagecoach updates image.tag on promotion.`,
    'image:',
    '  repository: demo/app',
    `  tag: ${tag}`,
    'replicas: 1',
    '',
  ].join('\n');
}

function gitopsHistory(): SeedCommit[] {
  return [
    {
      files: {
        'README.md':
          '# demo/gitops\n\nDesired state of demo/app, one folder per environment.\n',
        'env/dev/values.yaml': demoValues('dev'),
        'env/staging/values.yaml': demoValues('staging'),
        'env/prod/values.yaml': demoValues('prod'),
      },
      message: 'Environments dev, staging and prod at v0.9.0',
    },
  ];
}

export interface SeedResult {
  /** Folder holding the bare repositories. */
  root: string;
  /** Repositories created by this call (empty when all existed already). */
  created: string[];
  /** Repositories that existed and were kept as they were. */
  reused: string[];
}

async function isBareRepo(dir: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, 'HEAD'));
    await fs.access(path.join(dir, 'objects'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the demo's bare repositories under `root` (`app.git`, `gitops.git`) unless they
 * exist already: a restart keeps what promotions pushed. Each repository is built in a
 * scratch folder beside its final place and renamed into it, so an interrupted first start
 * leaves no half-made repository behind.
 */
export async function seedDemoRepos(root: string): Promise<SeedResult> {
  const result: SeedResult = {
    root: path.resolve(root),
    created: [],
    reused: [],
  };
  await fs.mkdir(result.root, { recursive: true });
  const histories: Record<(typeof DEMO_REPOS)[number], () => SeedCommit[]> = {
    app: appHistory,
    gitops: gitopsHistory,
  };
  for (const name of DEMO_REPOS) {
    const target = path.join(result.root, `${name}.git`);
    if (await isBareRepo(target)) {
      result.reused.push(name);
      continue;
    }
    const scratch = await fs.mkdtemp(path.join(result.root, `.seed-${name}-`));
    try {
      const built = await createBareRepo(scratch, name, histories[name]());
      await fs.rm(target, { recursive: true, force: true });
      await fs.rename(built, target);
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
    result.created.push(name);
  }
  return result;
}
