import fs from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { z } from 'zod';
import { confinedPath, StepConfigError } from '../workDir';
import { findExecutable, notAnOption, runTool, ToolHome, withToolHome } from './externalTool';
import { refuseLinksOut } from './files';
import { isYamlFilePath, RenderedResource, splitResources, writeResourceFiles, writeStreamFile } from './renderedManifests';
import { StepContext, StepDefinition, StepResult } from './types';

// Expressions yield JSON types: `${{ imageFrom(repo).Tag }}` may well be the number 1.2.
const scalarText = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const schema = z
  .object({
    path: z.string().min(1),
    outPath: z.string().min(1),
    outLayout: z.enum(['helm', 'flat']).optional(),
    // helm's own rule for release names; a leading "-" would make it an option (--post-renderer=...)
    releaseName: z
      .string()
      .min(1)
      .max(53, 'must be at most 53 characters (a Helm release name)')
      .refine(v => !v.startsWith('-'), 'must not start with "-" (helm would read it as an option)')
      .refine(
        v => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v),
        'must be a Helm release name: lower-case letters, digits, "-" and "."',
      ),
    useReleaseName: z.boolean().optional(),
    namespace: z.string().optional(),
    valuesFiles: z
      .array(z.string().min(1).refine(f => !f.includes(','), { message: 'must not contain a comma (helm splits --values at commas)' }))
      .optional(),
    ignoreMissingValueFiles: z.boolean().optional(),
    setValues: z
      .array(z.object({ key: z.string().min(1), value: scalarText, literal: z.boolean().optional() }).strict())
      .optional(),
    buildDependencies: z.boolean().optional(),
    includeCRDs: z.boolean().optional(),
    disableHooks: z.boolean().optional(),
    skipTests: z.boolean().optional(),
    kubeVersion: z.string().optional(),
    apiVersions: z.array(z.string().min(1)).optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

export const HELM_MISSING =
  "helm-template needs the helm CLI on the backend's PATH: install Helm 3 or later (https://helm.sh/docs/intro/install/) " +
  'on every machine that runs promotions';

interface Paths {
  chart: string;
  out: string;
  valuesFiles: string[];
}

async function resolvePaths(ctx: StepContext, config: Config): Promise<Paths> {
  const chart = await confinedPath(ctx.workDir, config.path, 'path');
  const hasChart = await fs.stat(path.join(chart, 'Chart.yaml')).then(s => s.isFile(), () => false);
  if (!hasChart) throw new StepConfigError(`path "${config.path}" is not a Helm chart: it has no Chart.yaml`);
  // helm follows links inside a chart: one leading out of the work directory would render another's files
  await refuseLinksOut(ctx.workDir, chart, 'path', config.path);
  if (!isYamlFilePath(config.outPath) && (config.outLayout ?? 'helm') === 'helm') {
    // helm writes into <outPath>/<the chart's name>/
    const name = String(parseDocument(await fs.readFile(path.join(chart, 'Chart.yaml'), 'utf8')).get('name') ?? '');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new StepConfigError(`path "${config.path}": the chart's name "${name}" cannot name the folder helm writes into`);
    }
  }
  const out = await confinedPath(ctx.workDir, config.outPath, 'outPath', { writes: true });
  const valuesFiles: string[] = [];
  for (const [i, given] of (config.valuesFiles ?? []).entries()) {
    const file = await confinedPath(ctx.workDir, given, `valuesFiles[${i}]`);
    const found = await fs.stat(file).then(s => s.isFile(), () => false);
    if (found) valuesFiles.push(file);
    else if (!config.ignoreMissingValueFiles) {
      throw new StepConfigError(
        `valuesFiles[${i}] "${given}" does not exist (set ignoreMissingValueFiles: true to skip missing ones)`,
      );
    }
  }
  return { chart, out, valuesFiles };
}

/**
 * The arguments of `helm template`: every value from config joined to its flag
 * (`--namespace=dev`), and the release name and chart after `--`, so that no value is
 * ever read as an option of its own.
 */
export function templateArgs(config: Config, paths: Paths, project: string): string[] {
  const args = ['template', `--namespace=${config.namespace || project}`];
  for (const f of paths.valuesFiles) args.push(`--values=${f}`);
  for (const v of config.setValues ?? []) args.push(`${v.literal ? '--set-literal' : '--set'}=${v.key}=${v.value}`);
  if (config.includeCRDs) args.push('--include-crds');
  if (config.disableHooks) args.push('--no-hooks');
  if (config.skipTests) args.push('--skip-tests');
  if (config.kubeVersion) args.push(`--kube-version=${config.kubeVersion}`);
  for (const v of config.apiVersions ?? []) args.push(`--api-versions=${v}`);
  if (!isYamlFilePath(paths.out) && (config.outLayout ?? 'helm') === 'helm') {
    args.push(`--output-dir=${paths.out}`);
    if (config.useReleaseName) args.push('--release-name');
  }
  args.push('--', notAnOption(config.releaseName, 'releaseName'), paths.chart);
  return args;
}

/**
 * The chart repositories its dependencies come from. `helm dependency build` only fetches
 * from repositories it has been told about, so they go into the run's own repositories.yaml.
 * A local dependency (`file://<folder>`) must be a chart inside the work directory.
 */
async function dependencyRepositories(ctx: StepContext, chart: string, given: string): Promise<string[]> {
  const doc = parseDocument(await fs.readFile(path.join(chart, 'Chart.yaml'), 'utf8'));
  const deps = doc.get('dependencies', true);
  if (!isSeq(deps)) return [];
  const repositories = deps.items.map(d => (isMap(d) ? String(d.get('repository') ?? '') : ''));
  for (const [i, repository] of repositories.entries()) {
    if (!repository.startsWith('file://')) continue;
    const field = `the dependencies[${i}].repository of ${path.posix.join(given, 'Chart.yaml')}`;
    const folder = path.resolve(chart, repository.slice('file://'.length));
    const local = await confinedPath(ctx.workDir, path.relative(ctx.workDir, folder) || '.', field).catch(() => {
      throw new StepConfigError(`${field} "${repository}" is not a folder inside the promotion's work directory`);
    });
    await refuseLinksOut(ctx.workDir, local, field, repository);
  }
  const urls = repositories.map(url => url.replace(/\/+$/, '')).filter(url => /^https?:\/\//.test(url));
  return [...new Set(urls)];
}

async function buildDependencies(helm: string, ctx: StepContext, chart: string, given: string, home: ToolHome) {
  const env = home.env;
  const repos = await dependencyRepositories(ctx, chart, given);
  const lines = ['apiVersion: ""', 'repositories:'];
  repos.forEach((url, i) => lines.push(`- name: stagecoach-${i + 1}`, `  url: ${JSON.stringify(url)}`));
  if (repos.length === 0) lines[1] = 'repositories: []';
  await fs.mkdir(path.dirname(env.HELM_REPOSITORY_CONFIG), { recursive: true });
  await fs.writeFile(env.HELM_REPOSITORY_CONFIG, `${lines.join('\n')}\n`);
  await runTool(helm, ['dependency', 'build', '--', chart], {
    cwd: ctx.workDir,
    signal: ctx.signal,
    home,
    label: 'helm dependency build',
  });
}

/** Flat layout: `[group-]kind[-namespace]-name.yaml`, Kargo's names. */
function flatFileName(r: RenderedResource, i: number): string {
  if (!r.kind || !r.name) return `resource-${i}.yaml`;
  const slash = r.apiVersion.lastIndexOf('/');
  const group = slash > 0 ? r.apiVersion.slice(0, slash).replace(/\./g, '_') : '';
  return `${group ? `${group}-` : ''}${r.kind}${r.namespace ? `-${r.namespace}` : ''}-${r.name}.yaml`.toLowerCase();
}

async function writeOutput(config: Config, out: string, stdout: string): Promise<string> {
  if (isYamlFilePath(out)) {
    await writeStreamFile(out, `${stdout.trim()}\n`);
    return config.outPath;
  }
  if ((config.outLayout ?? 'helm') === 'flat') {
    const resources = splitResources(stdout);
    await writeResourceFiles(out, resources, resources.map(flatFileName));
    return `${config.outPath} (${resources.length} files)`;
  }
  return config.outPath; // helm wrote the files itself (--output-dir)
}

/** Renders a Helm chart with `helm template` into a file or a folder. */
export const helmTemplate: StepDefinition<Config> = {
  name: 'helm-template',
  description: 'Render a Helm chart with the helm CLI into one file, or into a folder.',
  schema,
  async run(ctx, config): Promise<StepResult> {
    const paths = await resolvePaths(ctx, config);
    const helm = findExecutable('helm');
    if (!helm) return { status: 'Failed', message: HELM_MISSING };
    return withToolHome(async home => {
      if (config.buildDependencies) await buildDependencies(helm, ctx, paths.chart, config.path, home);
      const stdout = await runTool(helm, templateArgs(config, paths, ctx.project), {
        cwd: ctx.workDir,
        signal: ctx.signal,
        home,
        label: 'helm template',
      });
      const written = await writeOutput(config, paths.out, stdout);
      return { status: 'Succeeded', message: `rendered ${config.path} as release "${config.releaseName}" into ${written}` };
    });
  },
};
