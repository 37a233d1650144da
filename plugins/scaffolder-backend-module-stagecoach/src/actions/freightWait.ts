import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  artifactCount,
  artifactsInput,
  describeArtifacts,
  freightHolds,
  type Artifacts,
} from './artifacts';
import {
  answerOf,
  pause,
  StagecoachApiError,
  stagecoachAsInitiator,
  type StagecoachActionOptions,
} from './stagecoachApi';

const DEFAULT_TIMEOUT_SECONDS = 600;
const POLL_MS = 2000;
/** How many of the newest freight are searched for the artifacts on each look. */
const SEARCHED = 200;

const examples = [
  {
    description:
      'Wait until the warehouse has made freight of the image tag CI just pushed',
    example: `steps:
  - id: built
    action: stagecoach:freight:wait
    input:
      project: shop
      warehouse: app
      refresh: true
      images:
        - repoURL: ghcr.io/acme/shop
          tag: \${{ parameters.version }}
`,
  },
  {
    description: 'Wait until staging has verified a freight',
    example: `steps:
  - id: verified
    action: stagecoach:freight:wait
    input:
      project: shop
      freight: \${{ steps.freight.output.alias }}
      stage: staging
      until: verified
      timeoutSeconds: 1800
`,
  },
];

interface FoundFreight {
  id: string;
  alias: string;
  origin: { name: string };
  images: Array<{ repoURL: string; tag?: string; digest?: string }>;
  commits: Array<{ repoURL: string; id?: string; tag?: string }>;
  charts: Array<{ repoURL: string; name?: string; version?: string }>;
  currentlyIn: string[];
  verifiedIn: string[];
}

/** `stagecoach:freight:wait`: waits for freight to exist, or to be in or verified in a stage. */
export function createFreightWaitAction(options: StagecoachActionOptions) {
  return createTemplateAction({
    id: 'stagecoach:freight:wait',
    description:
      'Waits, as the user running the template, until freight exists (named by ID or alias, or by its artifacts), or until a stage holds it (until: current) or has verified it (until: verified). Outputs the freight.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        project: z => z.string().min(1).describe('The Stagecoach project'),
        freight: z =>
          z
            .string()
            .optional()
            .describe("The freight's ID or alias; or give its artifacts"),
        warehouse: z =>
          z
            .string()
            .optional()
            .describe("The freight's warehouse (needed for refresh)"),
        ...artifactsInput,
        stage: z =>
          z
            .string()
            .optional()
            .describe('With until current or verified: the stage'),
        until: z =>
          z
            .enum(['exists', 'current', 'verified'])
            .optional()
            .describe(
              'exists (default): the freight exists; current: the stage holds it; verified: the stage verified it',
            ),
        refresh: z =>
          z
            .boolean()
            .optional()
            .describe(
              'true: ask the warehouse to look for new artifacts first',
            ),
        timeoutSeconds: z =>
          z
            .number()
            .int()
            .min(1)
            .optional()
            .describe(
              `Give up after this many seconds (default ${DEFAULT_TIMEOUT_SECONDS})`,
            ),
      },
      output: {
        freightId: z => z.string().describe("The freight's ID"),
        alias: z => z.string().describe("The freight's alias"),
        freight: z =>
          z
            .record(z.unknown())
            .describe(
              'The freight as the API shows it (artifacts, currentlyIn, verifiedIn, ...)',
            ),
        dryRun: z =>
          z
            .string()
            .optional()
            .describe('In a dry run: what would have been waited for'),
      },
    },
    async handler(ctx) {
      const {
        project,
        freight,
        warehouse,
        images,
        commits,
        charts,
        stage,
        refresh,
      } = ctx.input;
      const until = ctx.input.until ?? 'exists';
      const artifacts: Artifacts = { images, commits, charts };
      if ((freight === undefined) === (artifactCount(artifacts) === 0)) {
        throw new InputError(
          'name the freight by exactly one of input freight (ID or alias) and its artifacts (input images, commits, charts)',
        );
      }
      if (until !== 'exists' && !stage) {
        throw new InputError(`input until is ${until}: give input stage`);
      }
      if (refresh && !warehouse) {
        throw new InputError(
          'input refresh needs input warehouse: the warehouse to refresh',
        );
      }
      const named = freight
        ? `freight "${freight}"`
        : `freight of ${describeArtifacts(artifacts)}${
            warehouse ? ` from warehouse "${warehouse}"` : ''
          }`;
      const goal =
        until === 'exists'
          ? `${named} to exist in project "${project}"`
          : `${named} to be ${
              until === 'current' ? 'in' : 'verified in'
            } stage "${stage}" of project "${project}"`;
      if (ctx.isDryRun) {
        const plan = `would ${
          refresh ? `refresh warehouse "${warehouse}" and ` : ''
        }wait for ${goal}`;
        ctx.logger.info(`Dry run: ${plan}`);
        ctx.output('freightId', '');
        ctx.output('alias', freight ?? '');
        ctx.output('freight', {});
        ctx.output('dryRun', plan);
        return;
      }
      const { client, token } = await stagecoachAsInitiator(options, ctx);
      if (refresh) {
        await answerOf(
          await client.refreshWarehouse(
            { path: { project, warehouse: warehouse! } },
            { token },
          ),
          `refreshing warehouse "${warehouse}" (input warehouse) of project "${project}"`,
        );
      }
      const look = async (): Promise<FoundFreight | undefined> => {
        if (freight) {
          const response = await client.getFreight(
            { path: { project, freight } },
            { token },
          );
          if (response.status === 404) return undefined;
          return (await answerOf(
            response,
            `reading freight "${freight}" (input freight) of project "${project}"`,
          )) as FoundFreight;
        }
        const list = await answerOf(
          await client.listFreight(
            {
              path: { project },
              query: {
                limit: SEARCHED,
                ...(warehouse ? { origin: warehouse } : {}),
              },
            },
            { token },
          ),
          `listing the freight of project "${project}"${
            warehouse ? ` from warehouse "${warehouse}" (input warehouse)` : ''
          }`,
        );
        return (list.items as FoundFreight[]).find(f =>
          freightHolds(f, artifacts),
        );
      };
      const reached = (f: FoundFreight) =>
        until === 'exists' ||
        (until === 'current' ? f.currentlyIn : f.verifiedIn).includes(stage!);

      const timeoutSeconds =
        ctx.input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
      const deadline = Date.now() + timeoutSeconds * 1000;
      ctx.logger.info(`Waiting for ${goal}`);
      let last = '';
      for (;;) {
        let found: FoundFreight | undefined;
        try {
          found = await look();
        } catch (e) {
          // a project not there yet may come; anything else (403, 400) will not change
          if (!(e instanceof StagecoachApiError && e.status === 404)) throw e;
        }
        const now = found
          ? `freight ${found.alias} exists; in ${
              found.currentlyIn.join(', ') || 'no stage'
            }, verified in ${found.verifiedIn.join(', ') || 'no stage'}`
          : 'no such freight yet';
        if (now !== last) {
          ctx.logger.info(now);
          last = now;
        }
        if (found && reached(found)) {
          ctx.output('freightId', found.id);
          ctx.output('alias', found.alias);
          ctx.output('freight', found as unknown as Record<string, unknown>);
          return;
        }
        if (ctx.signal?.aborted) {
          throw new Error(`The task was cancelled while waiting for ${goal}`);
        }
        if (Date.now() >= deadline) {
          throw new Error(
            `Waited ${timeoutSeconds} s (input timeoutSeconds) for ${goal}; last seen: ${now}`,
          );
        }
        await pause(POLL_MS, ctx.signal);
      }
    },
  });
}
