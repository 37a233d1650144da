import fs from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  pipelineDocuments,
  pipelineYaml,
  type PipelineSpec,
} from './pipelineManifests';
import { workspaceFile } from './workspacePath';

const DEFAULT_PATH = 'stagecoach/pipeline.yaml';

const examples = [
  {
    description:
      'A pipeline for an image, dev then staging then prod, one folder per environment on main, with an Argo CD app per stage',
    example: `steps:
  - id: pipeline
    action: stagecoach:pipeline:create
    input:
      project: shop
      artifacts:
        images:
          - repoURL: ghcr.io/acme/shop
            constraint: ^1.0.0
      stages: [dev, staging, prod]
      layout: folder-per-env
      gitopsRepoURL: https://git.example.com/acme/shop-gitops.git
      argocdApps:
        dev: shop-dev
        staging: shop-staging
        prod: shop-prod
`,
  },
  {
    description:
      'Rendered branches (one branch per environment) for a Git repository of configuration, without a PromotionTask',
    example: `steps:
  - id: pipeline
    action: stagecoach:pipeline:create
    input:
      project: payments
      warehouse: config
      artifacts:
        git:
          - repoURL: https://git.example.com/acme/payments-config.git
            branch: main
      stages: [test, prod]
      layout: branch-per-env
      gitopsRepoURL: https://git.example.com/acme/payments-gitops.git
      promotionTask: false
      path: pipeline/stagecoach.yaml
`,
  },
];

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `stagecoach:pipeline:create`: writes a pipeline's manifests into the workspace. */
export function createPipelineCreateAction() {
  return createTemplateAction({
    id: 'stagecoach:pipeline:create',
    description:
      "Writes a Stagecoach pipeline (Kargo's format) into the workspace: a Warehouse watching the artifacts, a Stage per environment in order and, optionally, a PromotionTask with the steps that update the GitOps repository. Apply it with stagecoach:manifests:apply, or publish it with the repository.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        project: z =>
          z
            .string()
            .min(1)
            .describe(
              "The Stagecoach project: the manifests' metadata.namespace",
            ),
        warehouse: z =>
          z
            .string()
            .optional()
            .describe('The name of the Warehouse (default: app)'),
        artifacts: z =>
          z
            .object({
              images: z
                .array(
                  z.object({
                    repoURL: z
                      .string()
                      .min(1)
                      .describe(
                        'The image repository, such as ghcr.io/acme/app',
                      ),
                    imageSelectionStrategy: z
                      .enum(['SemVer', 'Lexical', 'NewestBuild', 'Digest'])
                      .optional()
                      .describe(
                        'How the newest tag is chosen (default SemVer)',
                      ),
                    constraint: z
                      .string()
                      .optional()
                      .describe(
                        'A semver range (SemVer), or the tag to follow (Digest)',
                      ),
                  }),
                )
                .optional()
                .describe('Container images to watch'),
              git: z
                .array(
                  z.object({
                    repoURL: z
                      .string()
                      .min(1)
                      .describe('The http(s) URL of the Git repository'),
                    commitSelectionStrategy: z
                      .enum([
                        'NewestFromBranch',
                        'SemVer',
                        'Lexical',
                        'NewestTag',
                      ])
                      .optional()
                      .describe(
                        'Which commit is newest (default NewestFromBranch)',
                      ),
                    branch: z
                      .string()
                      .optional()
                      .describe('NewestFromBranch: the branch to follow'),
                    semverConstraint: z
                      .string()
                      .optional()
                      .describe('SemVer: a range of tags'),
                  }),
                )
                .optional()
                .describe('Git repositories to watch'),
              charts: z
                .array(
                  z.object({
                    repoURL: z
                      .string()
                      .min(1)
                      .describe(
                        'A Helm repository (https://…, then name is needed) or an OCI chart (oci://…/chart)',
                      ),
                    name: z
                      .string()
                      .optional()
                      .describe(
                        "The chart's name in a classic Helm repository",
                      ),
                    semverConstraint: z
                      .string()
                      .optional()
                      .describe('A range of versions'),
                  }),
                )
                .optional()
                .describe('Helm charts to watch'),
            })
            .describe(
              'What the Warehouse watches; at least one image, Git repository or chart',
            ),
        stages: z =>
          z
            .array(z.string().min(1))
            .min(1)
            .describe(
              'The stage names, in promotion order: the first takes freight from the warehouse, each next one what the stage before it verified',
            ),
        layout: z =>
          z
            .enum(['folder-per-env', 'branch-per-env'])
            .describe(
              "folder-per-env: a folder per stage on one branch; branch-per-env: each stage folder, updated, becomes the content of the stage's own branch",
            ),
        gitopsRepoURL: z =>
          z
            .string()
            .min(1)
            .describe(
              'The http(s) URL of the GitOps repository the stages update',
            ),
        gitopsBranch: z =>
          z
            .string()
            .optional()
            .describe('The branch holding the stage folders (default main)'),
        envFolder: z =>
          z
            .string()
            .optional()
            .describe(
              'The folder of the stage folders, and the prefix of the stage branches (default env: env/<stage>)',
            ),
        argocdApps: z =>
          z
            .record(z.string())
            .optional()
            .describe(
              'Argo CD Application names by stage name: each is synced to the pushed commit after a promotion',
            ),
        promotionTask: z =>
          z
            .boolean()
            .optional()
            .describe(
              'true (default): the steps are a PromotionTask that every stage calls; false: each stage lists them',
            ),
        path: z =>
          z
            .string()
            .optional()
            .describe(
              `Where to write the manifests, relative to the workspace (default ${DEFAULT_PATH})`,
            ),
      },
      output: {
        path: z =>
          z.string().describe('The file written, relative to the workspace'),
        manifests: z => z.string().describe('The multi-document YAML written'),
        warehouse: z => z.string().describe("The Warehouse's name"),
        stages: z => z.array(z.string()).describe('The stage names, in order'),
      },
    },
    async handler(ctx) {
      const { input } = ctx;
      const spec: PipelineSpec = {
        project: input.project,
        warehouse: input.warehouse ?? 'app',
        images: input.artifacts.images ?? [],
        git: input.artifacts.git ?? [],
        charts: input.artifacts.charts ?? [],
        stages: input.stages,
        layout: input.layout,
        gitopsRepoURL: input.gitopsRepoURL,
        gitopsBranch: input.gitopsBranch ?? 'main',
        envFolder: (input.envFolder ?? 'env').replace(/^\/+|\/+$/g, ''),
        argocdApps: input.argocdApps ?? {},
        promotionTask: input.promotionTask ?? true,
      };
      checkSpec(spec);
      const relative = input.path ?? DEFAULT_PATH;
      const file = workspaceFile(ctx.workspacePath, 'path', relative);
      const yaml = pipelineYaml(spec);
      // also in a dry run: the workspace is the dry run's own, and what it shows
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, yaml, 'utf8');
      const kinds = pipelineDocuments(spec).map(
        d => `${d.kind}/${(d.metadata as { name: string }).name}`,
      );
      ctx.logger.info(
        `Wrote ${kinds.join(', ')} for project ${spec.project} to ${relative}`,
      );
      ctx.output('path', relative);
      ctx.output('manifests', yaml);
      ctx.output('warehouse', spec.warehouse);
      ctx.output('stages', spec.stages);
    },
  });
}

function checkSpec(spec: PipelineSpec) {
  const name = (input: string, value: string) => {
    if (!NAME.test(value) || value.length > 63) {
      throw new InputError(
        `input ${input} "${value}" is not a valid name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
      );
    }
  };
  name('project', spec.project);
  name('warehouse', spec.warehouse);
  spec.stages.forEach((s, i) => name(`stages[${i}]`, s));
  const seen = new Set<string>();
  spec.stages.forEach((s, i) => {
    if (seen.has(s))
      throw new InputError(`input stages[${i}] "${s}" is listed twice`);
    seen.add(s);
  });
  if (spec.images.length + spec.git.length + spec.charts.length === 0) {
    throw new InputError(
      'input artifacts names nothing to watch: give at least one of images, git or charts',
    );
  }
  spec.charts.forEach((c, i) => {
    if (!c.repoURL.startsWith('oci://') && !c.name) {
      throw new InputError(
        `input artifacts.charts[${i}] (${c.repoURL}) needs a name: a classic Helm repository holds many charts`,
      );
    }
  });
  if (!/^https?:\/\//.test(spec.gitopsRepoURL)) {
    throw new InputError(
      `input gitopsRepoURL "${spec.gitopsRepoURL}" must be an http(s) URL of a Git repository`,
    );
  }
  for (const stage of Object.keys(spec.argocdApps)) {
    if (!seen.has(stage)) {
      throw new InputError(
        `input argocdApps names stage "${stage}", which is not in input stages (${spec.stages.join(
          ', ',
        )})`,
      );
    }
  }
  if (
    !spec.envFolder ||
    spec.envFolder.split('/').some(p => p === '..' || p === '.' || p === '')
  ) {
    throw new InputError(
      `input envFolder "${spec.envFolder}" must be a relative folder such as env`,
    );
  }
}
