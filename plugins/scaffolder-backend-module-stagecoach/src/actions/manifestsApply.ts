import fs from 'node:fs/promises';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { parseAllDocuments } from 'yaml';
import {
  answerOf,
  stagecoachAsInitiator,
  type StagecoachActionOptions,
} from './stagecoachApi';
import { workspaceFile } from './workspacePath';

const examples = [
  {
    description: 'Apply the pipeline that stagecoach:pipeline:create wrote',
    example: `steps:
  - id: apply
    action: stagecoach:manifests:apply
    input:
      project: shop
      path: \${{ steps.pipeline.output.path }}
`,
  },
  {
    description:
      'Apply manifests given inline, removing the stages and warehouses they leave out',
    example: `steps:
  - id: apply
    action: stagecoach:manifests:apply
    input:
      project: shop
      prune: true
      manifests: |
        apiVersion: kargo.akuity.io/v1alpha1
        kind: Warehouse
        metadata: {name: app, namespace: shop}
        spec:
          subscriptions:
            - image: {repoURL: ghcr.io/acme/shop}
`,
  },
];

/** What a set of manifests defines, by kind, as the dry run reports it. */
function describeSet(yaml: string): string[] {
  return parseAllDocuments(yaml)
    .map(d => d.toJS({ maxAliasCount: 100 }) as any)
    .filter(v => v && typeof v === 'object')
    .map(v => `${v.kind ?? '?'}/${v.metadata?.name ?? '?'}`);
}

/** `stagecoach:manifests:apply`: applies a set of manifests to a project, as the user. */
export function createManifestsApplyAction(options: StagecoachActionOptions) {
  return createTemplateAction({
    id: 'stagecoach:manifests:apply',
    description:
      "Applies a set of Stagecoach (Kargo) manifests to a project through Stagecoach's API, all or nothing, as the user running the template (the policy's stagecoach.manifests.apply decides). Without prune, an apply that would remove stages or warehouses is refused.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        project: z => z.string().min(1).describe('The Stagecoach project'),
        path: z =>
          z
            .string()
            .optional()
            .describe(
              'A YAML file in the workspace (relative path); give this or manifests',
            ),
        manifests: z =>
          z
            .string()
            .optional()
            .describe(
              'The manifests as multi-document YAML; give this or path',
            ),
        prune: z =>
          z
            .boolean()
            .optional()
            .describe(
              'true: remove the stages, warehouses and ConfigMaps the set leaves out (default false)',
            ),
        revision: z =>
          z
            .string()
            .optional()
            .describe(
              'The source revision (a commit SHA, a tag) recorded in the apply history',
            ),
      },
      output: {
        warehouses: z =>
          z.array(z.string()).describe('The warehouses the project has now'),
        stages: z =>
          z.array(z.string()).describe('The stages the project has now'),
        warnings: z =>
          z.array(z.string()).describe('Documents Stagecoach skipped, and why'),
        dryRun: z =>
          z
            .string()
            .optional()
            .describe('In a dry run: what would have been applied'),
      },
    },
    async handler(ctx) {
      const { project, path: file, manifests, prune, revision } = ctx.input;
      if ((file === undefined) === (manifests === undefined)) {
        throw new InputError(
          'give exactly one of input path (a YAML file in the workspace) and input manifests (the YAML itself)',
        );
      }
      let yaml = manifests ?? '';
      let source = 'input manifests';
      if (file !== undefined) {
        source = `input path "${file}"`;
        yaml = await fs
          .readFile(workspaceFile(ctx.workspacePath, 'path', file), 'utf8')
          .catch(e => {
            throw new InputError(
              `${source} cannot be read from the workspace: ${
                e.code ?? e.message
              }`,
            );
          });
      }
      if (ctx.isDryRun) {
        const defined = describeSet(yaml);
        const plan = `would apply ${defined.length} documents (${defined.join(
          ', ',
        )}) from ${source} to project ${project}${prune ? ' with prune' : ''}`;
        ctx.logger.info(`Dry run: ${plan}`);
        ctx.output(
          'warehouses',
          defined.filter(d => d.startsWith('Warehouse/')).map(d => d.slice(10)),
        );
        ctx.output(
          'stages',
          defined.filter(d => d.startsWith('Stage/')).map(d => d.slice(6)),
        );
        ctx.output('warnings', []);
        ctx.output('dryRun', plan);
        return;
      }
      const { client, token } = await stagecoachAsInitiator(options, ctx);
      const result = await answerOf(
        await client.applyManifests(
          {
            path: { project },
            query: prune ? { prune: 'true' } : undefined,
            body: { manifests: yaml, ...(revision ? { revision } : {}) },
          },
          { token },
        ),
        `applying ${source} to project "${project}" (input project)`,
      );
      const warnings = (result.warnings ?? []).map(
        w =>
          `document ${w.document}${w.resource ? ` (${w.resource})` : ''}: ${
            w.message
          }`,
      );
      ctx.logger.info(
        `Applied ${source} to project ${project}: warehouses ${
          result.warehouses.join(', ') || 'none'
        }, stages ${result.stages.join(', ') || 'none'}`,
      );
      for (const w of warnings) ctx.logger.warn(`Skipped ${w}`);
      ctx.output('warehouses', result.warehouses);
      ctx.output('stages', result.stages);
      ctx.output('warnings', warnings);
    },
  });
}
