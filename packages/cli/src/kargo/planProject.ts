import { cleanManifest, Manifest } from './cleanManifest';
import {
  ANALYSIS_TEMPLATES,
  CLUSTER_ANALYSIS_TEMPLATES,
  FREIGHT,
  KubeObject,
  PROJECT_CONFIGS,
  PROMOTION_TASKS,
  PROMOTIONS,
  ResourceType,
  STAGES,
  WAREHOUSES,
} from './kinds';
import type { KargoProject } from './readProject';

/** What the cluster holds besides the projects' namespaces. */
export interface ClusterObjects {
  clusterPromotionTasks: KubeObject[];
  clusterAnalysisTemplates: KubeObject[];
  /**
   * Whether the Stagecoach imported to has a cluster scope (PUT /cluster/manifests): then
   * ClusterPromotionTasks are imported there, else each project reports those its stages call
   * as skipped.
   */
  clusterScope: boolean;
}

/** One object of the Kargo installation and what the import does with it. */
export interface PlannedDocument {
  /** `Stage/prod` */
  resource: string;
  /** The manifest sent to Stagecoach; absent when the object is skipped. */
  manifest?: Manifest;
  /** Why the object is not sent. */
  skipped?: string;
  /** Where a manifest made from another object came from. */
  from?: string;
}

export interface ProjectPlan {
  project: string;
  /** Every object, in the order they are sent (then the skipped ones). */
  documents: PlannedDocument[];
  /** The manifests sent, in order: document n of the YAML is sent[n - 1]. */
  sent: PlannedDocument[];
}

export const SKIP_FREIGHT =
  'Freight history is not imported: the warehouses discover freight again';
export const SKIP_PROMOTION = 'Promotions (history) are not imported';
export const SKIP_CLUSTER_SCOPED =
  'cluster-scoped kinds are not yet supported by this Stagecoach';
const SKIP_PROJECT =
  'the project itself is not a document in Stagecoach: the set is applied to the project of that name';

const resourceOf = (type: ResourceType, o: KubeObject) =>
  `${type.kind}/${o.metadata.name}`;
const byName = (a: KubeObject, b: KubeObject) =>
  a.metadata.name.localeCompare(b.metadata.name);

interface StageRefs {
  tasks: { kind?: string; name?: string }[];
  templates: { kind?: string; name?: string }[];
}

function stageRefs(stage: KubeObject): StageRefs {
  const spec = (stage.spec ?? {}) as {
    promotionTemplate?: {
      spec?: { steps?: { task?: { kind?: string; name?: string } }[] };
    };
    verification?: { analysisTemplates?: { kind?: string; name?: string }[] };
  };
  const steps = Array.isArray(spec.promotionTemplate?.spec?.steps)
    ? spec.promotionTemplate!.spec!.steps!
    : [];
  const templates = Array.isArray(spec.verification?.analysisTemplates)
    ? spec.verification!.analysisTemplates!
    : [];
  return { tasks: steps.flatMap(s => (s?.task ? [s.task] : [])), templates };
}

/** Stages upstream first (test, uat, prod), by name among equals: the order people read a pipeline in. */
function pipelineOrder(stages: KubeObject[]): KubeObject[] {
  const byStageName = new Map(stages.map(s => [s.metadata.name, s]));
  const upstreams = (s: KubeObject): string[] => {
    const requested = (
      s.spec as
        | { requestedFreight?: { sources?: { stages?: unknown } }[] }
        | undefined
    )?.requestedFreight;
    return (Array.isArray(requested) ? requested : [])
      .flatMap(r =>
        Array.isArray(r?.sources?.stages) ? r.sources!.stages : [],
      )
      .filter((n): n is string => typeof n === 'string');
  };
  const out: KubeObject[] = [];
  const placed = new Set<string>();
  const visit = (s: KubeObject, path: Set<string>) => {
    const name = s.metadata.name;
    if (placed.has(name) || path.has(name)) return; // a cycle is the backend's to report
    path.add(name);
    for (const up of upstreams(s).sort()) {
      const upstream = byStageName.get(up);
      if (upstream) visit(upstream, path);
    }
    path.delete(name);
    placed.add(name);
    out.push(s);
  };
  for (const s of [...stages].sort(byName)) visit(s, new Set());
  return out;
}

/**
 * What one project becomes: its ProjectConfig, Warehouses, PromotionTasks, AnalysisTemplates
 * (and the ClusterAnalysisTemplates its stages name, which a Stagecoach project set holds) and
 * Stages as clean manifests, in that order; the Project, Freight, Promotions and the
 * ClusterPromotionTasks its stages name as skipped, each with why.
 */
export function planProject(
  read: KargoProject,
  cluster: ClusterObjects,
): ProjectPlan {
  const sent: PlannedDocument[] = [];
  const skipped: PlannedDocument[] = [];
  /** Sends the objects by name; stages come in pipeline order instead. */
  const send = (type: ResourceType, objects: KubeObject[]) => {
    const ordered =
      type === STAGES ? pipelineOrder(objects) : [...objects].sort(byName);
    for (const o of ordered)
      sent.push({
        resource: resourceOf(type, o),
        manifest: cleanManifest(o, type),
      });
  };

  // Kargo before v1.7 kept the promotion policies in the Project's spec; they are the ProjectConfig's now
  const legacyPolicies = (
    read.project.spec as { promotionPolicies?: unknown } | undefined
  )?.promotionPolicies;
  if (
    read.projectConfigs.length === 0 &&
    Array.isArray(legacyPolicies) &&
    legacyPolicies.length > 0
  ) {
    sent.push({
      resource: `ProjectConfig/${read.name}`,
      from: `Project/${read.name} spec.promotionPolicies (Kargo before v1.7)`,
      manifest: {
        apiVersion: `${PROJECT_CONFIGS.group}/${PROJECT_CONFIGS.version}`,
        kind: PROJECT_CONFIGS.kind,
        metadata: { name: read.name },
        spec: { promotionPolicies: legacyPolicies },
      },
    });
  }
  send(PROJECT_CONFIGS, read.projectConfigs);
  send(WAREHOUSES, read.warehouses);
  send(PROMOTION_TASKS, read.promotionTasks);
  send(ANALYSIS_TEMPLATES, read.analysisTemplates);

  const refs = read.stages.map(stageRefs);
  const named = (
    kind: string,
    pick: (r: StageRefs) => { kind?: string; name?: string }[],
  ) =>
    new Set(
      refs.flatMap(r =>
        pick(r)
          .filter(ref => ref.kind === kind && typeof ref.name === 'string')
          .map(ref => ref.name!),
      ),
    );
  const clusterTemplates = named(
    CLUSTER_ANALYSIS_TEMPLATES.kind,
    r => r.templates,
  );
  send(
    CLUSTER_ANALYSIS_TEMPLATES,
    cluster.clusterAnalysisTemplates.filter(t =>
      clusterTemplates.has(t.metadata.name),
    ),
  );
  send(STAGES, read.stages);

  const hasLegacy = Array.isArray(legacyPolicies) && legacyPolicies.length > 0;
  skipped.push({
    resource: `Project/${read.name}`,
    skipped:
      hasLegacy && read.projectConfigs.length > 0
        ? `${SKIP_PROJECT}; its spec.promotionPolicies are not imported either: the ProjectConfig's are`
        : SKIP_PROJECT,
  });
  const clusterTasks = named('ClusterPromotionTask', r => r.tasks);
  for (const task of [...cluster.clusterPromotionTasks].sort(byName)) {
    if (!cluster.clusterScope && clusterTasks.has(task.metadata.name))
      skipped.push({
        resource: `ClusterPromotionTask/${task.metadata.name}`,
        skipped: SKIP_CLUSTER_SCOPED,
      });
  }
  for (const f of read.freight)
    skipped.push({ resource: resourceOf(FREIGHT, f), skipped: SKIP_FREIGHT });
  for (const p of read.promotions)
    skipped.push({
      resource: resourceOf(PROMOTIONS, p),
      skipped: SKIP_PROMOTION,
    });

  return { project: read.name, documents: [...sent, ...skipped], sent };
}
