import { Command, CommanderError, Option } from 'commander';
import { KargoCluster } from './kargo/KargoCluster';
import { failed, importKargo } from './kargo/importKargo';
import { formatReport } from './kargo/formatReport';
import { loadKubeConfig } from './kargo/kubeConfig';
import { StagecoachTarget } from './stagecoach/StagecoachTarget';

/** Where the command reads its environment and writes: the process's, or a test's. */
export interface CliIo {
  env: Record<string, string | undefined>;
  homeDir?: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo = (): CliIo => ({
  env: process.env,
  stdout: text => process.stdout.write(text),
  stderr: text => process.stderr.write(text),
});

/** Exit codes: 0 done, 1 something was refused or failed, 2 the command line is wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface KargoImportFlags {
  project: string[];
  context?: string;
  url: string;
  token?: string;
  dryRun?: boolean;
  prune?: boolean;
}

class UsageError extends Error {}

async function importKargoCommand(
  flags: KargoImportFlags,
  io: CliIo,
): Promise<number> {
  let url: URL;
  try {
    url = new URL(flags.url);
  } catch {
    throw new UsageError(
      `--url "${flags.url}" is not a URL: give the backend's, such as http://localhost:7007`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(
      `--url must be http:// or https://, not ${url.protocol}`,
    );
  const token =
    flags.token ?? io.env.STAGECOACH_TOKEN ?? io.env.STAGECOACH_API_TOKEN;
  if (!flags.dryRun && !token) {
    throw new UsageError(
      'no token for Stagecoach: set STAGECOACH_TOKEN (or pass --token) to a token of backend.auth.externalAccess, or use --dry-run',
    );
  }
  const cluster = new KargoCluster(
    loadKubeConfig({ env: io.env, homeDir: io.homeDir }, flags.context),
  );
  const target = flags.dryRun
    ? undefined
    : new StagecoachTarget(url.toString().replace(/\/$/, ''), token!);
  const report = await importKargo(cluster, {
    projects: flags.project,
    target,
    prune: !!flags.prune,
  });
  io.stdout(
    formatReport(report, { dryRun: !!flags.dryRun, target: target?.url }),
  );
  return failed(report) ? EXIT_FAILED : 0;
}

function program(io: CliIo, run: (action: Promise<number>) => void): Command {
  const root = new Command('stagecoach')
    .description('Stagecoach from the command line')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const importCommand = root
    .command('import')
    .description('import pipelines from another tool')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  importCommand
    .command('kargo')
    .description(
      'import a Kargo installation: its ClusterPromotionTasks through PUT /api/stagecoach/cluster/manifests, then each ' +
        "project's Warehouses, Stages, PromotionTasks, ProjectConfig and AnalysisTemplates through " +
        'PUT /api/stagecoach/projects/{project}/manifests. Freight history, Promotions and Secrets are not imported.',
    )
    .addOption(
      new Option(
        '--project <name>',
        'a Kargo project to import (repeat for more)',
      )
        .argParser((v: string, all: string[]) => [...all, v])
        .default([], 'every project'),
    )
    .option(
      '--context <name>',
      'the kubeconfig context of the Kargo cluster (KUBECONFIG or ~/.kube/config); default: the current one',
    )
    .option(
      '--url <url>',
      "the Stagecoach backend's URL",
      'http://localhost:7007',
    )
    .option(
      '--token <token>',
      'a Backstage token for the REST API, such as a static token of backend.auth.externalAccess; default: $STAGECOACH_TOKEN (better than --token, which other users of the machine can see)',
    )
    .option(
      '--dry-run',
      'apply nothing: say what would be applied and print the manifests that would be sent',
    )
    .option(
      '--prune',
      "let an apply remove what Kargo does not have: the Stagecoach warehouses and stages of each imported project, and, when Kargo has ClusterPromotionTasks, whatever else the cluster scope holds (other tasks, the ClusterConfig, shared ConfigMaps and Secrets). Without it, the cluster scope gets Kargo's tasks as a merge and keeps the rest",
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action((flags: KargoImportFlags) => run(importKargoCommand(flags, io)));
  return root;
}

/** Runs the command line `argv` (without node and the script) and answers the exit code. */
export async function runCli(
  argv: string[],
  io: CliIo = processIo(),
): Promise<number> {
  let action: Promise<number> | undefined;
  try {
    await program(io, a => (action = a)).parseAsync(argv, { from: 'user' });
    if (!action) return 0;
    return await action;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (e instanceof UsageError) {
      io.stderr(`stagecoach: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`stagecoach: ${(e as Error).message}\n`);
    return EXIT_FAILED;
  }
}
