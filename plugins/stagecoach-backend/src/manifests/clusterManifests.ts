import type { ManifestProblem, ManifestWarning } from '@stagecoach/plugin-stagecoach-common';
import { z } from 'zod';
import { CLUSTER_CONFIG_NAME, ClusterConfigSpec, clusterConfigSpecSchema } from './clusterConfig';
import type { ManifestExtension, ManifestKind } from './ManifestExtension';
import { ManifestValidationError } from './ManifestValidationError';
import { pipelineKinds } from './pipelineKinds';
import { zodProblems } from './problems';
import { KARGO_API_VERSION, metadataSchema, PromotionTaskSpec } from './schemas';
import { skippedDocument } from './skippedDocuments';
import { readYamlDocuments } from './yamlDocuments';
import { ConfigMapDefinition, configMapKind } from './configMaps';
import { CredentialDefinition, secretKind, UNLABELLED_SECRET_SKIPPED } from './secrets';

/**
 * The cluster scope: Kargo's cluster-wide documents that are not a project's, ClusterPromotionTask
 * (a PromotionTask every project's stages may call with `task: {kind: ClusterPromotionTask}`)
 * and ClusterConfig. They are applied as one set of their own (`PUT /cluster/manifests`), by
 * those the permission policy lets change the cluster scope; a project's set cannot hold them.
 */

/** The kinds of the cluster scope, in the order messages name them. */
export const CLUSTER_KINDS = ['ClusterPromotionTask', 'ClusterConfig'] as const;

/** Where the cluster scope is applied, as messages say it. */
export const CLUSTER_APPLY_ROUTE = 'PUT /api/stagecoach/cluster/manifests';

/** A ClusterPromotionTask as stored: its name and spec (a PromotionTask's). */
export interface ClusterTaskDefinition {
  name: string;
  spec: PromotionTaskSpec;
}

/** A validated cluster set: what `PUT /cluster/manifests` stores. */
export interface ClusterManifests {
  tasks: ClusterTaskDefinition[];
  /** The ClusterConfig, when the set has one. */
  config?: ClusterConfigSpec;
  /** Shared ConfigMaps, for `sharedConfigMap()` in every project. */
  configMaps: ConfigMapDefinition[];
  /** Shared generic Secrets (cred-type generic), for `sharedSecret()`: values in clear, to be sealed before they are stored. */
  secrets: (CredentialDefinition & { document: number })[];
  /** Documents Stagecoach does not read (a Namespace), skipped and said. */
  warnings: ManifestWarning[];
}

/**
 * The cluster kinds as a project's set meets them: refused, saying where they are applied
 * (Kargo keeps them out of any namespace too).
 */
export const clusterKindsInProjects: ManifestKind<never>[] = CLUSTER_KINDS.map(kind => ({
  apiVersion: KARGO_API_VERSION,
  kind,
  namespaced: false,
  read: () => ({
    problems: [
      {
        path: 'kind',
        message: `${kind} is cluster-wide, not a project's: apply it with ${CLUSTER_APPLY_ROUTE} (it needs the stagecoach.cluster.update permission)`,
      },
    ],
  }),
}));

const headerSchema = z.object({
  apiVersion: z.literal(KARGO_API_VERSION, { errorMap: () => ({ message: `must be ${KARGO_API_VERSION}` }) }),
  kind: z.string(),
  metadata: metadataSchema,
});

/**
 * Parses and validates a cluster set (ClusterPromotionTasks and at most one ClusterConfig,
 * named `cluster`). A project's document in it is a problem that says where it belongs; a
 * task's steps are checked as a PromotionTask's (the features' step checks). Either all is
 * valid or a ManifestValidationError lists every problem with its document and path.
 */
export function parseClusterManifests(text: string, extensions: readonly ManifestExtension[]): ClusterManifests {
  const taskKind = pipelineKinds(extensions).promotionTask;
  const projectKinds = new Set([
    'Warehouse',
    'Stage',
    'PromotionTask',
    'ProjectConfig',
    'Project',
    'Secret',
    ...extensions.flatMap(e => e.kinds ?? []).map(k => k.kind),
  ]);
  const problems: ManifestProblem[] = [];
  const warnings: ManifestWarning[] = [];
  const tasks: (ClusterTaskDefinition & { document: number })[] = [];
  const configMaps: (ConfigMapDefinition & { document: number })[] = [];
  const secrets: (CredentialDefinition & { document: number })[] = [];
  let config: { document: number; spec: ClusterConfigSpec } | undefined;

  const read = readYamlDocuments(text);
  problems.push(...read.problems);
  for (const { index, value } of read.documents) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ document: index, path: '', message: 'must be a mapping with apiVersion, kind, metadata and spec' });
      continue;
    }
    const shared = readSharedDocument(index, value as Record<string, unknown>, { configMaps, secrets });
    if (shared) {
      problems.push(...shared.problems);
      warnings.push(...shared.warnings);
      continue;
    }
    const skipped = skippedDocument(value as Record<string, unknown>, new Set([...CLUSTER_KINDS, ...projectKinds]));
    if (skipped) {
      warnings.push({ document: index, ...skipped });
      continue;
    }
    const header = headerSchema.safeParse(value);
    if (!header.success) {
      problems.push(...zodProblems('', header.error).map(p => ({ document: index, ...p })));
      continue;
    }
    const { kind, metadata } = header.data;
    const resource = `${kind}/${metadata.name}`;
    const at = (path: string, message: string) => problems.push({ document: index, resource, path, message });
    if (!(CLUSTER_KINDS as readonly string[]).includes(kind)) {
      at(
        'kind',
        projectKinds.has(kind)
          ? `${kind} is a project's document, not a cluster-wide one: apply it with PUT /api/stagecoach/projects/{project}/manifests`
          : `must be ClusterPromotionTask or ClusterConfig: the cluster scope holds only these, and v1 ConfigMaps and generic Secrets shared by every project`,
      );
      continue;
    }
    if (metadata.namespace) {
      at('metadata.namespace', `a ${kind} is cluster-wide: it has no namespace`);
    }
    const spec = (value as { spec?: unknown }).spec;
    if (kind === 'ClusterPromotionTask') {
      const earlier = tasks.find(t => t.name === metadata.name);
      if (earlier) {
        at('metadata.name', `${resource} is already defined in document ${earlier.document}`);
        continue;
      }
      const reading = taskKind.read(
        { document: index, resource, name: metadata.name, spec, fields: {} },
        { project: '', earlier: [] },
      );
      for (const p of reading.problems) at(p.path, p.message);
      if (reading.spec) tasks.push({ document: index, name: metadata.name, spec: reading.spec });
      continue;
    }
    if (metadata.name !== CLUSTER_CONFIG_NAME) {
      at('metadata.name', `is "${metadata.name}" but the ClusterConfig is named "${CLUSTER_CONFIG_NAME}", as in Kargo`);
    }
    if (config) {
      at('kind', `the cluster has one ClusterConfig; document ${config.document} is one already`);
      continue;
    }
    const parsed = clusterConfigSpecSchema.safeParse(spec ?? {});
    if (!parsed.success) {
      for (const p of zodProblems('spec', parsed.error)) at(p.path, p.message);
      continue;
    }
    config = { document: index, spec: parsed.data };
  }

  if (problems.length > 0) throw new ManifestValidationError(problems);
  return {
    tasks: tasks.map(({ name, spec }) => ({ name, spec })),
    ...(config ? { config: config.spec } : {}),
    configMaps: configMaps.map(({ name, data }) => ({ name, data })),
    secrets,
    warnings,
  };
}

const v1HeaderSchema = z.object({ apiVersion: z.literal('v1'), kind: z.enum(['ConfigMap', 'Secret']), metadata: metadataSchema });

/**
 * A `v1` ConfigMap or Secret of the cluster set, read as the shared data of every project
 * (Kargo's shared namespace): a ConfigMap for `sharedConfigMap()`, a generic Secret for
 * `sharedSecret()`. Undefined for any other document. A Secret without Kargo's cred-type
 * label is skipped, as in a project's set; a git, helm or image credential is refused: the
 * cluster scope holds no repository credentials (put them in the projects' manifests).
 */
function readSharedDocument(
  index: number,
  value: Record<string, unknown>,
  kept: { configMaps: (ConfigMapDefinition & { document: number })[]; secrets: (CredentialDefinition & { document: number })[] },
): { problems: ManifestProblem[]; warnings: ManifestWarning[] } | undefined {
  if (value.apiVersion !== 'v1' || (value.kind !== 'ConfigMap' && value.kind !== 'Secret')) return undefined;
  const problems: ManifestProblem[] = [];
  const warnings: ManifestWarning[] = [];
  const header = v1HeaderSchema.safeParse(value);
  if (!header.success) {
    problems.push(...zodProblems('', header.error).map(p => ({ document: index, ...p })));
    return { problems, warnings };
  }
  const { kind, metadata } = header.data;
  const resource = `${kind}/${metadata.name}`;
  const at = (path: string, message: string) => problems.push({ document: index, resource, path, message });
  if (metadata.namespace) at('metadata.namespace', `the cluster scope's ${kind}s are shared by every project: they have no namespace`);
  const { apiVersion: _a, kind: _k, metadata: _m, ...fields } = value;
  const document = { document: index, resource, name: metadata.name, spec: undefined, fields, ...(metadata.labels ? { labels: metadata.labels } : {}) };
  if (kind === 'ConfigMap') {
    const reading = configMapKind.read(document, { project: '', earlier: kept.configMaps.map(c => ({ document: c.document, name: c.name, spec: c })) });
    for (const p of reading.problems) at(p.path, p.message);
    if (reading.spec) kept.configMaps.push({ ...reading.spec, document: index });
    return { problems, warnings };
  }
  const reading = secretKind.read(document, { project: '', earlier: kept.secrets.map(c => ({ document: c.document, name: c.name, spec: c })) });
  for (const p of reading.problems) at(p.path, p.message);
  if (reading.skipped) warnings.push({ document: index, resource, message: reading.skipped });
  if (reading.spec?.unlabelled) warnings.push({ document: index, resource, message: UNLABELLED_SECRET_SKIPPED });
  else if (reading.spec && reading.spec.type !== 'generic') {
    at(
      'metadata.labels["kargo.akuity.io/cred-type"]',
      `is ${reading.spec.type}, but the cluster scope holds generic Secrets only (for sharedSecret()): a ${reading.spec.type} credential goes in the manifests of the projects that use it`,
    );
  } else if (reading.spec && !reading.problems.length) kept.secrets.push({ ...reading.spec, document: index });
  return { problems, warnings };
}
