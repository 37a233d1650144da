import { KARGO_API_VERSION } from './schemas';
import type { ManifestKind } from './ManifestExtension';
import { zodProblems } from './problems';
import { PromotionPolicySpec, projectConfigSpecSchema } from './projectConfig';

/**
 * Kargo's Project (`kind: Project`, cluster-wide, named after the project): in Stagecoach the
 * project is where the manifests are applied, so the document says nothing more. Kargo before
 * v1.7 kept promotion policies in `spec.promotionPolicies`; they are read as the ProjectConfig's.
 */
export interface ProjectDocumentSpec {
  promotionPolicies?: PromotionPolicySpec[];
}

export const projectKind: ManifestKind<ProjectDocumentSpec> = {
  apiVersion: KARGO_API_VERSION,
  kind: 'Project',
  namespaced: false,
  read: ({ name, spec }, { project, earlier }) => {
    if (name !== project) {
      return { problems: [{ path: 'metadata.name', message: `is "${name}" but the manifests are applied to project "${project}"` }] };
    }
    if (earlier.length > 0) {
      return { problems: [{ path: 'kind', message: `the set names its Project once; document ${earlier[0].document} is one already` }] };
    }
    if (spec === undefined || spec === null) return { spec: {}, problems: [] };
    if (typeof spec !== 'object' || Array.isArray(spec)) return { problems: [{ path: 'spec', message: 'must be a mapping' }] };
    const unknown = Object.keys(spec).filter(k => k !== 'promotionPolicies');
    if (unknown.length > 0) {
      return { problems: unknown.map(k => ({ path: `spec.${k}`, message: 'is not a field of a Project (Kargo v1.7 moved project settings to ProjectConfig)' })) };
    }
    const parsed = projectConfigSpecSchema.safeParse(spec);
    if (!parsed.success) return { problems: zodProblems('spec', parsed.error) };
    return { spec: parsed.data.promotionPolicies ? { promotionPolicies: parsed.data.promotionPolicies } : {}, problems: [] };
  },
};
