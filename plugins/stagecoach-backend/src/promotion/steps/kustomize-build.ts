import { z } from 'zod';
import { confinedPath, StepConfigError } from '../workDir';
import { findExecutable, runTool, ToolHome, withToolHome } from './externalTool';
import { findKustomization } from './kustomizationFile';
import { checkKustomizationTree } from './kustomizationTree';
import { isYamlFilePath, RenderedResource, splitResources, writeResourceFiles, writeStreamFile } from './renderedManifests';
import { StepContext, StepDefinition, StepResult } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    outPath: z.string().min(1),
    outputFormat: z.enum(['kargo', 'kustomize']).optional(),
    plugin: z
      .object({
        helm: z
          .object({
            apiVersions: z.array(z.string().min(1)).optional(),
            kubeVersion: z.string().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

export const KUSTOMIZE_MISSING =
  'kustomize-build needs kustomize on the backend\'s PATH: install kustomize ' +
  '(https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl, which has it built in as `kubectl kustomize`';

interface Kustomize {
  file: string;
  /** `build` for kustomize, `kustomize` for kubectl. */
  subcommand: string;
  label: string;
}

function locateKustomize(): Kustomize | undefined {
  const kustomize = findExecutable('kustomize');
  if (kustomize) return { file: kustomize, subcommand: 'build', label: 'kustomize build' };
  const kubectl = findExecutable('kubectl');
  if (kubectl) return { file: kubectl, subcommand: 'kustomize', label: 'kubectl kustomize' };
  return undefined;
}

// Older kustomize versions (kubectl before 1.21 embeds v2) have none of the Helm flags.
const helpCache = new Map<string, Promise<string>>();
function helpText(k: Kustomize, ctx: StepContext, home: ToolHome): Promise<string> {
  let help = helpCache.get(k.file);
  if (!help) {
    help = runTool(k.file, [k.subcommand, '--help'], { cwd: ctx.workDir, signal: ctx.signal, home, label: k.label }).catch(
      () => '',
    );
    helpCache.set(k.file, help);
  }
  return help;
}

/**
 * Kargo always enables kustomize's Helm chart inflation, so `helmCharts` in a kustomization
 * render; the flags are passed when this kustomize knows them. A Helm option it cannot
 * honour is an error rather than silently ignored.
 */
async function helmFlags(k: Kustomize, config: Config, ctx: StepContext, home: ToolHome): Promise<string[]> {
  const help = await helpText(k, ctx, home);
  const helm = config.plugin?.helm;
  const flags: string[] = [];
  const needs = (flag: string, field: string) => {
    if (!help.includes(flag)) {
      throw new StepConfigError(
        `${field} needs a kustomize with ${flag} (kustomize v5.3 or later); ${k.file} has no such flag`,
      );
    }
  };
  if (help.includes('--enable-helm')) flags.push('--enable-helm');
  if (helm?.kubeVersion) {
    needs('--helm-kube-version', 'plugin.helm.kubeVersion');
    flags.push(`--helm-kube-version=${helm.kubeVersion}`);
  }
  for (const v of helm?.apiVersions ?? []) {
    needs('--helm-api-versions', 'plugin.helm.apiVersions');
    flags.push(`--helm-api-versions=${v}`);
  }
  return flags;
}

// Kinds that have no namespace (kustomize knows them from its built-in OpenAPI schema).
const CLUSTER_SCOPED = new Set([
  'APIService', 'CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding', 'ComponentStatus',
  'CSIDriver', 'CSINode', 'CustomResourceDefinition', 'FlowSchema', 'IngressClass',
  'MutatingWebhookConfiguration', 'Namespace', 'Node', 'PersistentVolume', 'PodSecurityPolicy',
  'PriorityClass', 'PriorityLevelConfiguration', 'RuntimeClass', 'StorageClass',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingWebhookConfiguration',
  'VolumeAttachment',
]);

/** `[namespace-]kind-name.yaml`, Kargo's default. */
function kargoFileName(r: RenderedResource): string {
  return `${r.namespace ? `${r.namespace}-` : ''}${r.kind}-${r.name}.yaml`.toLowerCase();
}

/** `[namespace_]group_version_kind_name.yaml`, as `kustomize build -o dir/` names files. */
function kustomizeFileName(r: RenderedResource, manyNamespaces: boolean): string {
  const gvk = [...r.apiVersion.split('/'), r.kind].filter(Boolean).join('_');
  const prefix = manyNamespaces && r.namespace && !CLUSTER_SCOPED.has(r.kind) ? `${r.namespace}_` : '';
  return `${prefix}${gvk}_${r.name}.yaml`.toLowerCase();
}

/** The file name of each resource when the output is a folder. */
export function fileNames(resources: RenderedResource[], format: 'kargo' | 'kustomize'): string[] {
  const namespaces = new Set(
    resources.filter(r => !CLUSTER_SCOPED.has(r.kind)).map(r => r.namespace || 'default'),
  );
  return resources.map((r, i) => {
    if (!r.kind || !r.name) return `resource-${i}.yaml`;
    return format === 'kargo' ? kargoFileName(r) : kustomizeFileName(r, namespaces.size > 1);
  });
}

async function writeOutput(out: string, stream: string, format: 'kargo' | 'kustomize'): Promise<number> {
  const resources = splitResources(stream);
  if (isYamlFilePath(out)) {
    await writeStreamFile(out, stream);
  } else {
    const hint = format === 'kargo' ? ': use outputFormat: kustomize, whose names include the API group' : '';
    await writeResourceFiles(out, resources, fileNames(resources, format), hint);
  }
  return resources.length;
}

/** Renders a kustomization with the kustomize CLI (or `kubectl kustomize`) into a file or a folder. */
export const kustomizeBuild: StepDefinition<Config> = {
  name: 'kustomize-build',
  description: 'Render a kustomization into one file, or one file per resource in a folder.',
  schema,
  async run(ctx, config): Promise<StepResult> {
    const dir = await confinedPath(ctx.workDir, config.path, 'path');
    await findKustomization(dir, config.path);
    // the folders it names stay in the work directory, and nothing is fetched from elsewhere
    await checkKustomizationTree(ctx.workDir, dir);
    const out = await confinedPath(ctx.workDir, config.outPath, 'outPath', { writes: true });
    const kustomize = locateKustomize();
    if (!kustomize) return { status: 'Failed', message: KUSTOMIZE_MISSING };
    // every value joined to its flag, the folder after `--`: nothing from config reads as an option
    const stream = await withToolHome(async home => {
      const flags = await helmFlags(kustomize, config, ctx, home);
      return runTool(kustomize.file, [kustomize.subcommand, ...flags, '--', dir], {
        cwd: ctx.workDir,
        signal: ctx.signal,
        home,
        label: kustomize.label,
      });
    });
    const count = await writeOutput(out, stream, config.outputFormat ?? 'kargo');
    return {
      status: 'Succeeded',
      message: `rendered ${count} resource${count === 1 ? '' : 's'} from ${config.path} into ${config.outPath} (${kustomize.label})`,
    };
  },
};
