import { makeCreatePermissionRule } from '@backstage/plugin-permission-node';
import {
  STAGECOACH_PROJECT_RESOURCE_TYPE,
  STAGECOACH_STAGE_RESOURCE_TYPE,
} from '@stagecoach/plugin-stagecoach-common';
import type { ProjectResource, StageResource, StagecoachQuery } from './resources';
import { ruleParams } from './ruleParams';

/**
 * The permission rules a policy combines into conditional decisions. The project rules
 * exist for both resource types (a stage belongs to a project); the stage rules only for stages.
 */

const ownerParams = ruleParams<{ claims: string[] }>(
  { claims: { type: 'strings' } },
  {
    required: ['claims'],
    descriptions: {
      claims: "the caller's ownership entity refs (user and groups), e.g. user.info.ownershipEntityRefs",
    },
  },
);

const projectParams = ruleParams<{ projects: string[] }>(
  { projects: { type: 'strings' } },
  { required: ['projects'], descriptions: { projects: 'project names' } },
);

function projectRules<T extends string>(resourceType: T) {
  const createRule = makeCreatePermissionRule<ProjectResource, StagecoachQuery, T>();
  return {
    isProjectOwner: createRule({
      name: 'IS_PROJECT_OWNER',
      description:
        'Allow when the caller owns (directly or through a group) a catalog entity annotated with the project',
      resourceType,
      paramsSchema: ownerParams,
      apply: (resource, { claims }) => resource.owners.some(owner => claims.includes(owner)),
      toQuery: ({ claims }) => ({ ownerIn: claims }),
    }),
    hasProject: createRule({
      name: 'HAS_PROJECT',
      description: 'Allow when the project is one of those named',
      resourceType,
      paramsSchema: projectParams,
      apply: (resource, { projects }) => projects.includes(resource.project),
      toQuery: ({ projects }) => ({ projectIn: projects }),
    }),
  };
}

const createStageRule = makeCreatePermissionRule<StageResource, StagecoachQuery, typeof STAGECOACH_STAGE_RESOURCE_TYPE>();

export const projectPermissionRules = projectRules(STAGECOACH_PROJECT_RESOURCE_TYPE);

export const stagePermissionRules = {
  ...projectRules(STAGECOACH_STAGE_RESOURCE_TYPE),
  hasStage: createStageRule({
    name: 'HAS_STAGE',
    description: "Allow when the stage's name is one of those named",
    resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
    paramsSchema: ruleParams<{ stages: string[] }>(
      { stages: { type: 'strings' } },
      { required: ['stages'], descriptions: { stages: 'stage names' } },
    ),
    apply: (resource, { stages }) => stages.includes(resource.stage),
    toQuery: ({ stages }) => ({ stageIn: stages }),
  }),
  hasStageLabel: createStageRule({
    name: 'HAS_STAGE_LABEL',
    description:
      'Allow when the stage carries the label (metadata.labels of its Stage manifest), with one of the values when values are given',
    resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
    paramsSchema: ruleParams<{ label: string; values?: string[] }>(
      { label: { type: 'string' }, values: { type: 'strings' } },
      {
        required: ['label'],
        descriptions: { label: 'the label key, e.g. env', values: 'accepted values, e.g. ["prod"]; any value when absent' },
      },
    ),
    apply: (resource, { label, values }) =>
      Object.hasOwn(resource.labels, label) && (!values || values.includes(resource.labels[label])),
    toQuery: ({ label, values }) => ({ label, ...(values ? { valueIn: values } : {}) }),
  }),
};
