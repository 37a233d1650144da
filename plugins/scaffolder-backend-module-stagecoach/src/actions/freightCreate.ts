import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { artifactCount, artifactsInput, describeArtifacts } from './artifacts';
import {
  answerOf,
  stagecoachAsInitiator,
  type StagecoachActionOptions,
} from './stagecoachApi';

const examples = [
  {
    description:
      'Freight of an image tag the warehouse discovered, with an alias',
    example: `steps:
  - id: freight
    action: stagecoach:freight:create
    input:
      project: shop
      warehouse: app
      images:
        - repoURL: ghcr.io/acme/shop
          tag: 1.4.0
      alias: shop-1-4-0
`,
  },
];

/** `stagecoach:freight:create`: assembles freight from artifacts a warehouse discovered. */
export function createFreightCreateAction(options: StagecoachActionOptions) {
  return createTemplateAction({
    id: 'stagecoach:freight:create',
    description:
      'Assembles freight from artifacts its warehouse has discovered (one per subscription), as the user running the template. Freight with the same artifacts is answered as it is (renamed when alias is given).',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        project: z => z.string().min(1).describe('The Stagecoach project'),
        warehouse: z =>
          z.string().min(1).describe("The freight's warehouse (its origin)"),
        ...artifactsInput,
        alias: z =>
          z
            .string()
            .optional()
            .describe("The freight's alias (default: one Stagecoach chooses)"),
      },
      output: {
        freightId: z => z.string().describe("The freight's ID"),
        alias: z => z.string().describe("The freight's alias"),
        created: z =>
          z
            .boolean()
            .describe(
              'false when freight with these artifacts already existed',
            ),
        dryRun: z =>
          z
            .string()
            .optional()
            .describe('In a dry run: what would have been created'),
      },
    },
    async handler(ctx) {
      const { project, warehouse, images, commits, charts, alias } = ctx.input;
      const artifacts = { images, commits, charts };
      if (artifactCount(artifacts) === 0) {
        throw new InputError(
          'give the artifacts of the freight: at least one of input images, commits or charts',
        );
      }
      const what = `freight of ${describeArtifacts(
        artifacts,
      )} from warehouse "${warehouse}" (input warehouse) of project "${project}"`;
      if (ctx.isDryRun) {
        const plan = `would create ${what}${alias ? ` as ${alias}` : ''}`;
        ctx.logger.info(`Dry run: ${plan}`);
        ctx.output('freightId', '');
        ctx.output('alias', alias ?? '');
        ctx.output('created', false);
        ctx.output('dryRun', plan);
        return;
      }
      const { client, token } = await stagecoachAsInitiator(options, ctx);
      const response = await client.createFreight(
        {
          path: { project },
          body: {
            origin: { kind: 'Warehouse', name: warehouse },
            ...(images ? { images } : {}),
            ...(commits ? { commits } : {}),
            ...(charts ? { charts } : {}),
            ...(alias ? { alias } : {}),
          },
        },
        { token },
      );
      const created = response.status === 201;
      const freight = await answerOf(response, `creating ${what}`);
      ctx.logger.info(
        `${created ? 'Created' : 'Found existing'} freight ${freight.alias} (${
          freight.id
        }) in project ${project}`,
      );
      ctx.output('freightId', freight.id);
      ctx.output('alias', freight.alias);
      ctx.output('created', created);
    },
  });
}
