import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  createPromotionStep,
  PromotionStepContext,
  StepConfigError,
} from '@stagecoach/plugin-stagecoach-node';

const schema = z
  .object({
    /** The file to write, in the work directory (usually inside a checkout). */
    path: z.string().min(1, 'must name a file in the work directory'),
    /** The first heading; default `<stage>: <freight alias>`. */
    title: z.string().min(1).optional(),
  })
  .strict();

const shortSha = (id: string) => id.slice(0, 7);

/** The notes, as Markdown: what the freight bundles, and which promotion brought it. */
function releaseNotes(
  ctx: PromotionStepContext,
  config: z.infer<typeof schema>,
): string {
  const { freight } = ctx;
  const { commits, images, charts } = freight.artifacts;
  const lines = [
    `# ${config.title ?? `${ctx.stage}: ${freight.alias}`}`,
    '',
    `Freight ${freight.alias} (${shortSha(freight.id)}) from warehouse ${
      freight.warehouse
    }, promoted to ${ctx.stage} by promotion ${ctx.promotionId}${
      ctx.actor ? ` for ${ctx.actor}` : ''
    }.`,
  ];
  const section = (heading: string, items: string[]) => {
    if (items.length > 0) lines.push('', `## ${heading}`, '', ...items);
  };
  section(
    'Images',
    images.map(i => `- ${i.repoURL}:${i.tag} (${i.digest})`),
  );
  section(
    'Commits',
    commits.map(c => {
      const ref = [c.repoURL, c.tag ?? c.branch, shortSha(c.id)];
      const subject = c.message ? `: ${c.message}` : '';
      return `- ${ref.filter(Boolean).join(' ')}${subject}`;
    }),
  );
  section(
    'Charts',
    charts.map(c => `- ${c.repoURL}${c.name ? `/${c.name}` : ''} ${c.version}`),
  );
  return `${lines.join('\n')}\n`;
}

/**
 * `write-release-notes`: writes Markdown release notes for the freight being promoted, usually
 * into a GitOps checkout so that the commit after it records what each environment runs.
 * An example of a step a platform team adds through the extension point.
 */
export const writeReleaseNotes = createPromotionStep({
  name: 'write-release-notes',
  description:
    "Write Markdown release notes for the promoted freight's artifacts to a file.",
  schema,
  async run(ctx, config) {
    const file = await ctx.resolvePath(config.path, { writes: true });
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isDirectory()) {
      throw new StepConfigError(
        `path "${config.path}" is a folder, not a file`,
      );
    }
    const notes = releaseNotes(ctx, config);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, notes);
    ctx.logger.info(
      `wrote the release notes of ${ctx.freight.alias} to ${config.path}`,
    );
    return {
      status: 'Succeeded',
      message: `wrote the release notes of ${ctx.freight.alias} to ${config.path}`,
      // later steps can use them, e.g. as a commit message: ${{ outputs.<alias>.notes }}
      outputs: { path: config.path, notes },
    };
  },
});
