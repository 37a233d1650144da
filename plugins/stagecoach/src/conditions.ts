import type { Entity } from '@backstage/catalog-model';
import { ANNOTATION_PROJECT } from '@stagecoach/plugin-stagecoach-common';

/** True when the entity names a Stagecoach project, so it has a Promotions tab. */
export function isStagecoachAvailable(entity: Entity): boolean {
  return Boolean(entity.metadata.annotations?.[ANNOTATION_PROJECT]);
}
