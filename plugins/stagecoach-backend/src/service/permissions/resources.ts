import type { AuthService } from '@backstage/backend-plugin-api';
import { RELATION_OWNED_BY } from '@backstage/catalog-model';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { createPermissionResourceRef } from '@backstage/plugin-permission-node';
import {
  ANNOTATION_PROJECT,
  STAGECOACH_PROJECT_RESOURCE_TYPE,
  STAGECOACH_STAGE_RESOURCE_TYPE,
} from '@stagecoach/plugin-stagecoach-common';

/** What permission rules see of a project. */
export interface ProjectResource {
  project: string;
  /** Entity refs of the owners of every catalog entity annotated with the project. */
  owners: string[];
}

/** What permission rules see of a stage: its project's view plus its own name and labels. */
export interface StageResource extends ProjectResource {
  stage: string;
  labels: Record<string, string>;
}

/**
 * The query form of the rules (`toQuery`). Stagecoach filters its lists in memory with the
 * rules' `apply`, so this shape only has to say the same thing as `apply`, for a policy author
 * who reads the metadata.
 */
export type StagecoachQuery =
  | { ownerIn: string[] }
  | { projectIn: string[] }
  | { stageIn: string[] }
  | { label: string; valueIn?: string[] };

export const projectResourceRef = createPermissionResourceRef<ProjectResource, StagecoachQuery>().with({
  pluginId: 'stagecoach',
  resourceType: STAGECOACH_PROJECT_RESOURCE_TYPE,
});

export const stageResourceRef = createPermissionResourceRef<StageResource, StagecoachQuery>().with({
  pluginId: 'stagecoach',
  resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
});

/**
 * Who owns each project: the owners (`ownedBy` relations) of the catalog entities annotated
 * `stagecoach.io/project: <project>`. Read with the backend's own credentials, so that a
 * rule's answer does not depend on what the caller may see of the catalog, and kept for a
 * short while (one catalog query serves every permission check in that time).
 */
export class ProjectOwners {
  private cached?: { at: number; owners: Promise<Map<string, string[]>> };

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async of(project: string): Promise<string[]> {
    return (await this.all()).get(project) ?? [];
  }

  all(): Promise<Map<string, string[]>> {
    const now = this.now();
    if (!this.cached || now - this.cached.at >= this.ttlMs) {
      const owners = this.load();
      this.cached = { at: now, owners };
      // a failed read is not kept: the next check asks the catalog again
      owners.catch(() => {
        if (this.cached?.owners === owners) this.cached = undefined;
      });
    }
    return this.cached.owners;
  }

  private async load(): Promise<Map<string, string[]>> {
    const { items } = await this.catalog.getEntities(
      {
        filter: { [`metadata.annotations.${ANNOTATION_PROJECT}`]: CATALOG_FILTER_EXISTS },
        fields: [`metadata.annotations.${ANNOTATION_PROJECT}`, 'relations'],
      },
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    const owners = new Map<string, Set<string>>();
    for (const entity of items) {
      const project = entity.metadata.annotations?.[ANNOTATION_PROJECT]?.trim();
      if (!project) continue;
      const set = owners.get(project) ?? new Set<string>();
      for (const r of entity.relations ?? []) {
        if (r.type === RELATION_OWNED_BY) set.add(r.targetRef);
      }
      owners.set(project, set);
    }
    return new Map([...owners].map(([p, set]) => [p, [...set].sort()]));
  }
}
