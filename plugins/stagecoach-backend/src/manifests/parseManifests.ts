import { z } from 'zod';
import type { ManifestProblem, ManifestWarning } from '@stagecoach/plugin-stagecoach-common';
import { inflateTasks } from './promotionTasks';
import { KARGO_API_VERSION, metadataSchema, oneOf, PromotionTaskSpec, RunnableStageSpec, StageSpec, WarehouseSpec } from './schemas';
import { ManifestValidationError } from './ManifestValidationError';
import { readYamlDocuments } from './yamlDocuments';
import type { ProjectConfigSpec } from './projectConfig';
import type { KeptDocument, ManifestExtension, ManifestKind, ReadSet } from './ManifestExtension';
import { pipelineKinds } from './pipelineKinds';
import { DocumentProblem, formatPath, zodProblems } from './problems';
import { projectKind, ProjectDocumentSpec } from './projectDocument';
import { CredentialDefinition, secretKind, UNLABELLED_SECRET_SKIPPED } from './secrets';
import { ProjectReceiverProvider, projectReceivers } from './projectConfig';
import { ConfigMapDefinition, configMapKind } from './configMaps';
import { skippedDocument } from './skippedDocuments';
import { clusterKindsInProjects } from './clusterManifests';

export interface WarehouseDefinition {
  name: string;
  spec: WarehouseSpec;
}

/** A stage as stored and run: its PromotionTasks inflated into plain steps. */
export interface StageDefinition {
  name: string;
  spec: RunnableStageSpec;
  /** metadata.labels: what ProjectConfig stage selectors match. */
  labels?: Record<string, string>;
}

/** A project's validated pipeline: what `PUT .../manifests` stores. */
export interface ProjectManifests {
  project: string;
  warehouses: WarehouseDefinition[];
  stages: StageDefinition[];
  /** The project's ProjectConfig, when the set has one. */
  projectConfig?: ProjectConfigSpec;
  /** The project's credentials (Secrets labelled kargo.akuity.io/cred-type), values in clear: to be sealed before they are stored. */
  credentials?: CredentialDefinition[];
  /** The ProjectConfig's webhook receivers, each with its Secret's `secret` in clear: to be sealed before it is stored. */
  webhookReceivers?: WebhookReceiverDefinition[];
  /** The project's config maps (ConfigMaps), for `configMap()`: stored as written. */
  configMaps?: ConfigMapDefinition[];
  /** Documents the set holds that Stagecoach does not read (a Namespace, an Argo CD Application): skipped, and said. */
  warnings?: ManifestWarning[];
}

/** A ProjectConfig's webhook receiver with its secret (the `secret` key of the Secret it names). */
export interface WebhookReceiverDefinition {
  name: string;
  provider: ProjectReceiverProvider;
  secretName: string;
  secret: string;
}

/**
 * How a document's header is read: the kinds of each apiVersion, Kargo's first. A document of
 * another apiVersion than Kargo's is read as that apiVersion's kinds; a kind written with the
 * wrong apiVersion is told the right one; anything else is held to Kargo's header.
 */
function headerReader(kinds: readonly ManifestKind<unknown>[]) {
  const byApiVersion = new Map<string, ManifestKind<unknown>[]>();
  for (const kind of kinds) byApiVersion.set(kind.apiVersion, [...(byApiVersion.get(kind.apiVersion) ?? []), kind]);
  const schemas = new Map(
    [...byApiVersion].map(([apiVersion, ofVersion]) => {
      const names = ofVersion.map(k => k.kind);
      // Kargo's kinds are the default: only the others say which apiVersion they belong to
      const kindMessage = `must be ${oneOf(names)}${apiVersion === KARGO_API_VERSION ? '' : ` for ${apiVersion}`}`;
      const schema = z.object({
        apiVersion: z.literal(apiVersion, { errorMap: () => ({ message: `must be ${apiVersion}` }) }),
        kind: z.enum(names as [string, ...string[]], { errorMap: () => ({ message: kindMessage }) }),
        metadata: metadataSchema,
      });
      return [apiVersion, schema] as const;
    }),
  );
  const foreign = kinds.filter(k => k.apiVersion !== KARGO_API_VERSION);

  return (value: { apiVersion?: unknown; kind?: unknown }) => {
    const own = typeof value.apiVersion === 'string' && value.apiVersion !== KARGO_API_VERSION && schemas.get(value.apiVersion);
    if (own) return own.safeParse(value);
    const misplaced = foreign.find(k => k.kind === value.kind);
    if (misplaced) {
      const why = misplaced.foreignApiVersion ? `: ${misplaced.foreignApiVersion}` : '';
      return { success: false as const, problem: { path: 'apiVersion', message: `must be ${misplaced.apiVersion}${why}` } };
    }
    return schemas.get(KARGO_API_VERSION)!.safeParse(value);
  };
}

/**
 * Parses and validates a multi-document YAML set for one project. Either every document
 * is valid and consistent with the others, or a ManifestValidationError lists every
 * problem with its document and field path. Kargo's pipeline kinds are read here; the
 * features' extensions (from the composition root) bring their own kinds, Stage fields,
 * step checks and how a stage is completed.
 */
export function parseManifests(
  project: string,
  text: string,
  extensions: readonly ManifestExtension[],
  /** The cluster scope's ClusterPromotionTasks by name, which stages may call (default: none). */
  clusterTasks: ReadonlyMap<string, PromotionTaskSpec> = new Map(),
): ProjectManifests {
  const pipeline = pipelineKinds(extensions);
  const kinds: ManifestKind<unknown>[] = [
    pipeline.warehouse,
    pipeline.stage,
    pipeline.promotionTask,
    pipeline.projectConfig,
    projectKind,
    secretKind,
    configMapKind,
    ...clusterKindsInProjects,
    ...extensions.flatMap(e => e.kinds ?? []),
  ] as ManifestKind<unknown>[];
  const kindOf = new Map(kinds.map(k => [`${k.apiVersion} ${k.kind}`, k]));
  const readHeader = headerReader(kinds);
  const knownKinds = new Set(kinds.map(k => k.kind));
  const warnings: ManifestWarning[] = [];

  const problems: ManifestProblem[] = [];
  /** Every resource a document declares, valid or not: others may refer to it. */
  const declared = new Set<string>();
  /** The documents each kind keeps, by kind. */
  const kept = new Map<string, KeptDocument<unknown>[]>(kinds.map(k => [k.kind, []]));
  const located = (document: number, resource: string | undefined, found: DocumentProblem[]) =>
    found.map(p => ({ document, resource, path: p.path, message: p.message }));

  // within limits (size, nesting, aliases); a set with no documents at all is a problem too
  const read = readYamlDocuments(text);
  problems.push(...read.problems);

  read.documents.forEach(({ index, value }) => {
    if (value === undefined || value === null) return; // empty document between separators
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ document: index, path: '', message: 'must be a mapping with apiVersion, kind, metadata and spec' });
      return;
    }
    const skipped = skippedDocument(value as Record<string, unknown>, knownKinds);
    if (skipped) {
      warnings.push({ document: index, ...skipped });
      return;
    }
    const header = readHeader(value);
    if (!header.success) {
      if ('problem' in header) problems.push({ document: index, ...header.problem });
      else problems.push(...located(index, undefined, zodProblems('', header.error)));
      return;
    }
    const { apiVersion, kind: kindName, metadata } = header.data;
    const kind = kindOf.get(`${apiVersion} ${kindName}`)!;
    const resource = `${kindName}/${metadata.name}`;
    declared.add(resource);
    // a document's metadata.namespace, when it has one, names the project it is applied to
    if (kind.namespaced && metadata.namespace && metadata.namespace !== project) {
      problems.push({
        document: index,
        resource,
        path: 'metadata.namespace',
        message: `is "${metadata.namespace}" but the manifests are applied to project "${project}"`,
      });
    }
    const ofKind = kept.get(kindName)!;
    const { apiVersion: _a, kind: _k, metadata: _m, spec, ...fields } = value as Record<string, unknown>;
    const reading = kind.read(
      { document: index, resource, name: metadata.name, spec, fields, ...(metadata.labels ? { labels: metadata.labels } : {}) },
      { project, earlier: ofKind },
    );
    problems.push(...located(index, resource, reading.problems));
    if (reading.skipped) warnings.push({ document: index, resource, message: reading.skipped });
    if (reading.spec !== undefined) {
      ofKind.push({ document: index, name: metadata.name, spec: reading.spec, ...(metadata.labels ? { labels: metadata.labels } : {}) });
    }
  });

  const set: ReadSet = { kept: kind => kept.get(kind) ?? [], declared };
  const warehouses = set.kept('Warehouse') as KeptDocument<WarehouseSpec>[];
  const stages = set.kept('Stage') as KeptDocument<StageSpec>[];
  const tasks = new Map((set.kept('PromotionTask') as KeptDocument<PromotionTaskSpec>[]).map(t => [t.name, t.spec]));
  const configDocument = set.kept('ProjectConfig')[0] as KeptDocument<ProjectConfigSpec> | undefined;
  const projectDocument = set.kept('Project')[0] as KeptDocument<ProjectDocumentSpec> | undefined;
  const projectConfig = withProjectPolicies(configDocument, projectDocument, problems);
  const secrets = set.kept('Secret') as KeptDocument<CredentialDefinition>[];
  const webhookReceivers = receiversOf(configDocument, projectConfig, secrets, problems);
  const named = new Set(webhookReceivers.map(r => r.secretName));
  for (const s of secrets) {
    if (s.spec.unlabelled && !named.has(s.name)) warnings.push({ document: s.document, resource: `Secret/${s.name}`, message: UNLABELLED_SECRET_SKIPPED });
  }
  // a Secret without the label is a receiver's only, never a credential
  const credentials = secrets.filter(s => !s.spec.unlabelled).map(s => ({ ...s.spec, document: s.document }));
  const configMaps = (set.kept('ConfigMap') as KeptDocument<ConfigMapDefinition>[]).map(c => ({ ...c.spec, document: c.document }));

  // the features complete each stage (AnalysisTemplates merged into its verification); then
  // PromotionTasks are inflated into the stages that use them: a stage stores the steps it runs
  const runnable: Located<StageDefinition>[] = stages.map(stage => {
    let spec = stage.spec;
    for (const extension of extensions) {
      const resolved = extension.resolveStage?.({ ...stage, spec }, set);
      if (!resolved) continue;
      problems.push(...resolved.problems);
      spec = { ...spec, ...resolved.fields };
    }
    const { promotionTemplate, ...rest } = spec;
    const base = { document: stage.document, name: stage.name, ...(stage.labels ? { labels: stage.labels } : {}) };
    if (!promotionTemplate) return { ...base, spec: rest };
    const inflated = inflateTasks(promotionTemplate.spec.steps, tasks, clusterTasks);
    for (const p of inflated.problems) {
      problems.push({
        document: stage.document,
        resource: `Stage/${stage.name}`,
        path: formatPath('spec.promotionTemplate.spec.steps', p.path),
        message: p.message,
      });
    }
    return { ...base, spec: { ...rest, promotionTemplate: { spec: { ...promotionTemplate.spec, steps: inflated.steps } } } };
  });

  problems.push(...crossCheck(warehouses, runnable, declared));
  if (problems.length > 0) throw new ManifestValidationError(problems);
  return {
    project,
    warehouses: warehouses.map(({ name, spec }) => ({ name, spec })),
    stages: runnable.map(({ name, spec, labels }) => ({ name, spec, ...(labels ? { labels } : {}) })),
    ...(projectConfig ? { projectConfig } : {}),
    credentials,
    configMaps,
    webhookReceivers,
    warnings,
  };
}

/**
 * The ProjectConfig's webhook receivers with their secrets: each names a Secret of the set
 * (with or without the cred-type label, as in Kargo) that has the key `secret`.
 */
function receiversOf(
  config: KeptDocument<ProjectConfigSpec> | undefined,
  spec: ProjectConfigSpec | undefined,
  secrets: readonly KeptDocument<CredentialDefinition>[],
  problems: ManifestProblem[],
): WebhookReceiverDefinition[] {
  const out: WebhookReceiverDefinition[] = [];
  projectReceivers(spec).forEach((r, i) => {
    const at = `spec.webhookReceivers[${i}]`;
    const problem = (path: string, message: string) => {
      problems.push({ document: config?.document ?? 1, resource: `ProjectConfig/${config?.name ?? ''}`, path, message });
    };
    if (out.some(o => o.name === r.name)) {
      problem(`${at}.name`, `another receiver is named "${r.name}"`);
      return;
    }
    const secret = secrets.find(s => s.name === r.secretName);
    if (!secret) {
      problem(`${at}.${r.provider}.secretRef.name`, `names Secret "${r.secretName}", which is not in this set of manifests`);
      return;
    }
    const value = secret.spec.data?.secret;
    if (!value) {
      problem(
        `${at}.${r.provider}.secretRef.name`,
        `Secret "${r.secretName}" (document ${secret.document}) has no key "secret": a receiver's Secret holds its secret there, as in Kargo`,
      );
      return;
    }
    out.push({ ...r, secret: value });
  });
  return out;
}

/**
 * The ProjectConfig, with the promotion policies a Project document still holds (Kargo before
 * v1.7): read as the ProjectConfig's, unless that has policies of its own.
 */
function withProjectPolicies(
  config: KeptDocument<ProjectConfigSpec> | undefined,
  project: KeptDocument<ProjectDocumentSpec> | undefined,
  problems: ManifestProblem[],
): ProjectConfigSpec | undefined {
  const policies = project?.spec.promotionPolicies;
  if (!policies) return config?.spec;
  if (config?.spec.promotionPolicies) {
    problems.push({
      document: project!.document,
      resource: `Project/${project!.name}`,
      path: 'spec.promotionPolicies',
      message: `ProjectConfig/${config.name} (document ${config.document}) has promotionPolicies too: keep them in the ProjectConfig alone, where Kargo v1.7 moved them`,
    });
    return config.spec;
  }
  return { ...config?.spec, promotionPolicies: policies };
}

/** Checks between documents: unique names, known origins and upstream stages, no cycles. */
type Located<T> = T & { document: number };

function crossCheck(
  warehouses: Located<WarehouseDefinition>[],
  stages: Located<StageDefinition>[],
  declared: Set<string>,
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const docOf = (d: Located<unknown>) => d.document;

  const seen = new Map<string, number>();
  for (const [kind, defs] of [['Warehouse', warehouses], ['Stage', stages]] as const) {
    for (const d of defs) {
      const key = `${kind}/${d.name}`;
      if (seen.has(key)) {
        problems.push({
          document: docOf(d),
          resource: key,
          path: 'metadata.name',
          message: `${key} is already defined in document ${seen.get(key)}`,
        });
      } else seen.set(key, docOf(d));
    }
  }

  const stageByName = new Map(stages.map(s => [s.name, s]));
  for (const stage of stages) {
    stage.spec.requestedFreight.forEach((rf, i) => {
      const at = `spec.requestedFreight[${i}]`;
      if (!declared.has(`Warehouse/${rf.origin.name}`)) {
        problems.push({
          document: docOf(stage),
          resource: `Stage/${stage.name}`,
          path: `${at}.origin.name`,
          message: `names Warehouse "${rf.origin.name}", which is not in this set of manifests`,
        });
      }
      (rf.sources.stages ?? []).forEach((up, j) => {
        const upstream = stageByName.get(up);
        const path = `${at}.sources.stages[${j}]`;
        if (!upstream) {
          if (declared.has(`Stage/${up}`)) return; // that document has problems of its own
          problems.push({ document: docOf(stage), resource: `Stage/${stage.name}`, path, message: `names Stage "${up}", which is not in this set of manifests` });
        } else if (up === stage.name) {
          problems.push({ document: docOf(stage), resource: `Stage/${stage.name}`, path, message: 'a stage cannot take freight from itself' });
        } else if (!upstream.spec.requestedFreight.some(u => u.origin.name === rf.origin.name)) {
          problems.push({
            document: docOf(stage),
            resource: `Stage/${stage.name}`,
            path,
            message: `Stage "${up}" does not request freight from Warehouse "${rf.origin.name}"`,
          });
        }
      });
    });
  }

  const cycle = findCycle(stages);
  if (cycle) {
    const first = stageByName.get(cycle[0])!;
    problems.push({
      document: docOf(first),
      resource: `Stage/${first.name}`,
      path: 'spec.requestedFreight',
      message: `stages form a cycle: ${cycle.join(' -> ')}`,
    });
  }
  return problems;
}

function findCycle(stages: StageDefinition[]): string[] | undefined {
  const upstreams = new Map(
    stages.map(s => [s.name, s.spec.requestedFreight.flatMap(rf => rf.sources.stages ?? [])]),
  );
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done' || !upstreams.has(n)) return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const up of upstreams.get(n)!) {
      if (up === n) continue; // reported separately
      const c = visit(up);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const s of stages) {
    const c = visit(s.name);
    if (c) return c;
  }
  return undefined;
}

/** Stage names in pipeline order: each stage after every stage it takes freight from. */
export function pipelineOrder(stages: { name: string; spec: Pick<StageSpec, 'requestedFreight'> }[]): string[] {
  const byName = new Map(stages.map(s => [s.name, s]));
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (n: string, path: Set<string>) => {
    if (done.has(n) || path.has(n) || !byName.has(n)) return;
    path.add(n);
    for (const rf of byName.get(n)!.spec.requestedFreight) {
      for (const up of rf.sources.stages ?? []) visit(up, path);
    }
    path.delete(n);
    done.add(n);
    out.push(n);
  };
  for (const s of stages) visit(s.name, new Set());
  return out;
}
