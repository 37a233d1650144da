/** Catalog annotations that link an entity to its Stagecoach pipeline. */

/** The project whose pipeline this entity is part of. */
export const ANNOTATION_PROJECT = 'stagecoach.io/project';

/**
 * Optional, comma-separated: the warehouses whose freight carries this entity's
 * artifacts. Default: every warehouse of the project.
 */
export const ANNOTATION_WAREHOUSES = 'stagecoach.io/warehouses';

/** Where the entity's pipeline manifests live (`dir:` or `url:`), like `backstage.io/techdocs-ref`. */
export const ANNOTATION_PIPELINE_REF = 'stagecoach.io/pipeline-ref';

/**
 * On an Argo CD Application: the stages that may drive it, as `<project>:<stage>`
 * (comma-separated). `argocd-update` refuses any other Application. Kargo's
 * `kargo.akuity.io/authorized-stage` is honoured too.
 */
export const ANNOTATION_AUTHORIZED_STAGE = 'stagecoach.io/authorized-stage';
export const KARGO_ANNOTATION_AUTHORIZED_STAGE = 'kargo.akuity.io/authorized-stage';

/** The community Argo CD plugin's annotations, reused: one Application by name. */
export const ANNOTATION_ARGOCD_APP_NAME = 'argocd/app-name';
/** Applications by label selector (`k=v,k2=v2`); not combined with app-name. */
export const ANNOTATION_ARGOCD_APP_SELECTOR = 'argocd/app-selector';
/** The namespace the entity's Applications live in (default: Stagecoach's Argo CD namespace). */
export const ANNOTATION_ARGOCD_APP_NAMESPACE = 'argocd/app-namespace';
