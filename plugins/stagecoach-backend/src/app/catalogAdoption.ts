import type { CatalogPipeline } from '../store/CatalogPipelineStore';

/**
 * Whether a catalog entity may take over a project's pipeline that no entity manages now. A
 * project the catalog has not made (applied through the API or from app-config, or let go by
 * another entity) is handed over only by an administrator, who lists it in
 * `stagecoach.catalogPipelines.adopt`: anyone who may register a catalog entity must not be able
 * to replace, with prune, a pipeline somebody else applied. A project that does not exist yet is
 * the entity's to create, and one it already manages (or managed and let go) stays its own.
 */
export function adoptionRefusal(o: {
  project: string;
  /** The claiming entity, `kind:namespace/name`. */
  entity: string;
  pipelineRef: string;
  owned: CatalogPipeline | undefined;
  projectExists: boolean;
  adopt: readonly string[];
}): string | undefined {
  if (
    !o.projectExists ||
    o.owned?.entity === o.entity ||
    o.adopt.includes(o.project)
  )
    return undefined;
  const before = o.owned
    ? `its pipeline came from ${o.owned.entity}, which let it go`
    : 'it was applied another way';
  return `project ${o.project} is not managed from the catalog (${before}): ${o.entity}'s ${o.pipelineRef} is not applied until an administrator hands the project over by listing it in stagecoach.catalogPipelines.adopt`;
}
