import type {
  BackstageCredentials,
  PermissionsRegistryService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult, BasicPermission, PolicyDecision, ResourcePermission } from '@backstage/plugin-permission-common';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';
import {
  parseStageResourceRef,
  stageResourceRef as stageRef,
  stagecoachClusterPermissions,
  stagecoachPermissions,
  stagecoachProjectReadPermission,
  STAGECOACH_PROJECT_RESOURCE_TYPE,
  STAGECOACH_STAGE_RESOURCE_TYPE,
} from '@stagecoach/plugin-stagecoach-common';
import {
  ProjectOwners,
  ProjectResource,
  projectResourceRef,
  StageResource,
  stageResourceRef,
} from './resources';
import { projectPermissionRules, stagePermissionRules } from './rules';

/** How the access checks read the pipeline: the projects that exist and a stage's labels. */
export interface PipelineLookup {
  listProjects(): Promise<string[]>;
  /** The stage's labels; undefined when the stage does not exist. */
  stageLabels(project: string, stage: string): Promise<Record<string, string> | undefined>;
}

/** Loads what the rules look at, for the permission backend's apply-conditions requests. */
class ResourceLoader {
  constructor(
    private readonly owners: ProjectOwners,
    private readonly pipeline: PipelineLookup,
  ) {}

  async projects(refs: string[]): Promise<Array<ProjectResource | undefined>> {
    const [known, owners] = await Promise.all([this.pipeline.listProjects(), this.owners.all()]);
    const exists = new Set(known);
    return refs.map(project => (exists.has(project) ? { project, owners: owners.get(project) ?? [] } : undefined));
  }

  async stages(refs: string[]): Promise<Array<StageResource | undefined>> {
    const owners = await this.owners.all();
    return Promise.all(
      refs.map(async ref => {
        const parsed = parseStageResourceRef(ref);
        if (!parsed) return undefined;
        const labels = await this.pipeline.stageLabels(parsed.project, parsed.stage).catch(e => {
          if (e instanceof NotFoundError) return undefined;
          throw e;
        });
        if (!labels) return undefined;
        return { ...parsed, labels, owners: owners.get(parsed.project) ?? [] };
      }),
    );
  }
}

/**
 * Every read and change of the API goes through here: one permission check, on the project
 * or the stage it concerns, with the caller's credentials. Lists are filtered, not refused:
 * a conditional decision is applied to each project with the same rules the permission
 * backend uses.
 */
export class StagecoachAccess {
  private projectAuthorizer?: (decision: PolicyDecision, r?: ProjectResource) => boolean;

  private constructor(
    private readonly permissions: PermissionsService,
    private readonly registry: PermissionsRegistryService,
    private readonly owners: ProjectOwners,
  ) {}

  /**
   * Registers Stagecoach's permissions, its two resource types and their rules with the
   * plugin's permission registry (once, at start), and returns the checks that use them.
   */
  static register(
    permissions: PermissionsService,
    registry: PermissionsRegistryService,
    owners: ProjectOwners,
    pipeline: PipelineLookup,
  ): StagecoachAccess {
    const loader = new ResourceLoader(owners, pipeline);
    registry.addPermissions([...stagecoachPermissions, ...stagecoachClusterPermissions]);
    registry.addResourceType({
      resourceRef: projectResourceRef,
      permissions: stagecoachPermissions.filter(p => p.resourceType === STAGECOACH_PROJECT_RESOURCE_TYPE),
      rules: Object.values(projectPermissionRules),
      getResources: refs => loader.projects(refs),
    });
    registry.addResourceType({
      resourceRef: stageResourceRef,
      permissions: stagecoachPermissions.filter(p => p.resourceType === STAGECOACH_STAGE_RESOURCE_TYPE),
      rules: Object.values(stagePermissionRules),
      getResources: refs => loader.stages(refs),
    });
    return new StagecoachAccess(permissions, registry, owners);
  }

  /** Throws NotAllowedError unless the caller holds the permission on the project. */
  async checkProject(credentials: BackstageCredentials, permission: ResourcePermission, project: string): Promise<void> {
    await this.check(credentials, permission, project, `project ${project}`);
  }

  /** Throws NotAllowedError unless the caller holds the permission on the stage. */
  async checkStage(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    project: string,
    stage: string,
  ): Promise<void> {
    await this.check(credentials, permission, stageRef(project, stage), `stage ${stage} of project ${project}`);
  }

  /** Throws NotAllowedError unless the caller holds the cluster scope's permission (one with no resource). */
  async checkCluster(credentials: BackstageCredentials, permission: BasicPermission): Promise<void> {
    const [decision] = await this.permissions.authorize([{ permission }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(`${permission.name} on the cluster scope is not allowed for you by the permission policy`);
    }
  }

  /** The names among `projects` that the caller may read. */
  async readableProjects(credentials: BackstageCredentials, projects: string[]): Promise<Set<string>> {
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: stagecoachProjectReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.ALLOW) return new Set(projects);
    if (decision.result === AuthorizeResult.DENY) return new Set();
    // the rules the permission backend would apply, applied here to every project at once
    this.projectAuthorizer ??= createConditionAuthorizer(this.registry.getPermissionRuleset(projectResourceRef));
    const authorize = this.projectAuthorizer;
    const owners = await this.owners.all();
    return new Set(projects.filter(project => authorize(decision, { project, owners: owners.get(project) ?? [] })));
  }

  private async check(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    resourceRef: string,
    what: string,
  ): Promise<void> {
    const [decision] = await this.permissions.authorize([{ permission, resourceRef }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(`${permission.name} on ${what} is not allowed for you by the permission policy`);
    }
  }
}
