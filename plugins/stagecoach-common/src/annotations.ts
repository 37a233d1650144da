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
