import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  answerOf,
  pause,
  stagecoachAsInitiator,
  type StagecoachActionOptions,
} from './stagecoachApi';

const ENDED = ['Succeeded', 'Failed', 'Errored', 'Aborted'];
const DEFAULT_TIMEOUT_SECONDS = 600;
const POLL_MS = 1000;

const examples = [
  {
    description:
      'Promote the freight created in an earlier step to dev and wait for it',
    example: `steps:
  - id: promote
    action: stagecoach:promote
    input:
      project: shop
      stage: dev
      freight: \${{ steps.freight.output.alias }}
      wait: true
      timeoutSeconds: 900
`,
  },
  {
    description:
      'Promote the newest freight of warehouse app that staging may take, without waiting',
    example: `steps:
  - id: promote
    action: stagecoach:promote
    input:
      project: shop
      stage: staging
      origin: app
`,
  },
];

interface Step {
  alias: string;
  uses: string;
  status: string;
  message?: string;
  outputs?: Record<string, unknown>;
}

/** The commit a promotion made: the last step output named `commit` that is a string. */
function commitOf(steps: Step[]): string | undefined {
  for (const step of [...steps].reverse()) {
    const commit = step.outputs?.commit;
    if (typeof commit === 'string' && commit) return commit;
  }
  return undefined;
}

/** `stagecoach:promote`: asks for a promotion, as the user, and optionally waits for its end. */
export function createPromoteAction(options: StagecoachActionOptions) {
  return createTemplateAction({
    id: 'stagecoach:promote',
    description:
      "Promotes freight into a stage as the user running the template (the policy's stagecoach.promotion.create on the stage decides). The freight is named by ID or alias, or by its warehouse (origin: the newest freight the stage may take). With wait, the action follows the promotion until it ends, logging its steps, and fails unless it succeeded.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        project: z => z.string().min(1).describe('The Stagecoach project'),
        stage: z => z.string().min(1).describe('The stage to promote into'),
        freight: z =>
          z
            .string()
            .optional()
            .describe("The freight's ID or alias; give this or origin"),
        origin: z =>
          z
            .string()
            .optional()
            .describe(
              'A warehouse: promote the newest of its freight the stage may take; give this or freight',
            ),
        supersede: z =>
          z
            .boolean()
            .optional()
            .describe("true: abort the stage's older pending promotions"),
        wait: z =>
          z
            .boolean()
            .optional()
            .describe(
              'true: wait until the promotion ends, and fail unless it succeeded (default false)',
            ),
        timeoutSeconds: z =>
          z
            .number()
            .int()
            .min(1)
            .optional()
            .describe(
              `With wait: give up after this many seconds, leaving the promotion running (default ${DEFAULT_TIMEOUT_SECONDS})`,
            ),
      },
      output: {
        promotionId: z => z.string().describe("The promotion's ID"),
        phase: z =>
          z
            .string()
            .describe(
              'Its phase when the action ended: Pending or Running without wait, else how it ended',
            ),
        freight: z => z.string().describe("The promoted freight's alias"),
        freightId: z => z.string().describe("The promoted freight's ID"),
        commit: z =>
          z
            .string()
            .optional()
            .describe(
              'The commit a step made (the last step output named commit), when there is one',
            ),
        dryRun: z =>
          z
            .string()
            .optional()
            .describe('In a dry run: what would have been promoted'),
      },
    },
    async handler(ctx) {
      const { project, stage, freight, origin, supersede } = ctx.input;
      if ((freight === undefined) === (origin === undefined)) {
        throw new InputError(
          'give exactly one of input freight (an ID or alias) and input origin (a warehouse)',
        );
      }
      const named = freight
        ? `freight "${freight}" (input freight)`
        : `the newest freight of warehouse "${origin}" (input origin)`;
      const what = `promoting ${named} into stage "${stage}" (input stage) of project "${project}"`;
      if (ctx.isDryRun) {
        const plan = `would promote ${named} into stage "${stage}" of project "${project}"${
          ctx.input.wait ? ', then wait for the promotion to end' : ''
        }`;
        ctx.logger.info(`Dry run: ${plan}`);
        ctx.output('promotionId', '');
        ctx.output('phase', '');
        ctx.output('freight', freight ?? '');
        ctx.output('freightId', '');
        ctx.output('dryRun', plan);
        return;
      }
      const { client, token } = await stagecoachAsInitiator(options, ctx);
      let promotion = await answerOf(
        await client.createPromotion(
          {
            path: { project, stage },
            body: {
              ...(freight
                ? { freight }
                : { origin: { kind: 'Warehouse' as const, name: origin! } }),
              ...(supersede ? { supersede } : {}),
            },
          },
          { token },
        ),
        what,
      );
      ctx.logger.info(
        `Promotion ${promotion.id} of freight ${promotion.freight.alias} into ${stage}: ${promotion.phase}`,
      );
      const report = () => {
        ctx.output('promotionId', promotion.id);
        ctx.output('phase', promotion.phase);
        ctx.output('freight', promotion.freight.alias);
        ctx.output('freightId', promotion.freight.id);
        const commit = commitOf(promotion.steps as Step[]);
        if (commit) ctx.output('commit', commit);
      };
      if (!ctx.input.wait) {
        report();
        return;
      }
      const timeoutSeconds =
        ctx.input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
      const deadline = Date.now() + timeoutSeconds * 1000;
      const seen = new Map<string, string>();
      let phase = promotion.phase;
      for (;;) {
        // a step's progress, once per change of its status
        for (const step of promotion.steps as Step[]) {
          const line = `${step.status}${
            step.message ? `: ${step.message}` : ''
          }`;
          if (seen.get(step.alias) !== line) {
            seen.set(step.alias, line);
            if (step.status !== 'Pending') {
              ctx.logger.info(`  step ${step.alias} (${step.uses}) ${line}`);
            }
          }
        }
        if (promotion.phase !== phase) {
          phase = promotion.phase;
          ctx.logger.info(`Promotion ${promotion.id}: ${phase}`);
        }
        if (ENDED.includes(promotion.phase)) break;
        if (ctx.signal?.aborted) {
          report();
          throw new Error(
            `The task was cancelled while waiting for promotion ${promotion.id} (${promotion.phase}); the promotion goes on`,
          );
        }
        if (Date.now() >= deadline) {
          report();
          throw new Error(
            `Promotion ${promotion.id} into stage "${stage}" is still ${promotion.phase} after ${timeoutSeconds} s (input timeoutSeconds); it goes on in Stagecoach`,
          );
        }
        await pause(POLL_MS, ctx.signal);
        promotion = await answerOf(
          await client.getPromotion(
            { path: { project, id: promotion.id } },
            { token },
          ),
          `reading promotion ${promotion.id} of project "${project}"`,
        );
      }
      report();
      if (promotion.phase !== 'Succeeded') {
        throw new Error(
          `Promotion ${promotion.id} of freight ${
            promotion.freight.alias
          } into stage "${stage}" ended ${promotion.phase}${
            promotion.message ? `: ${promotion.message}` : ''
          }`,
        );
      }
    },
  });
}
