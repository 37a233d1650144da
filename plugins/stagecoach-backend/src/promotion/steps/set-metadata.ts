import { z } from 'zod';
import { StepDefinition } from './types';

const schema = z
  .object({
    updates: z
      .array(
        z
          .object({
            kind: z.enum(['Stage', 'Freight']),
            name: z.string().min(1),
            values: z
              .record(z.string(), z.unknown())
              .refine(v => Object.keys(v).length > 0, 'needs at least one value'),
          })
          .strict(),
      )
      .min(1, 'needs at least one update'),
  })
  .strict();

/** Records free-form values on stages and freight of the project, for later expressions and the UI. */
export const setMetadata: StepDefinition<z.infer<typeof schema>> = {
  name: 'set-metadata',
  description: 'Set metadata values on a stage or a freight of the project.',
  schema,
  async run(ctx, config) {
    for (const u of config.updates) {
      await ctx.metadata.set(u.kind, u.name, u.values);
    }
    const done = config.updates.map(u => `${u.kind} ${u.name} (${Object.keys(u.values).join(', ')})`);
    return { status: 'Succeeded', message: `set metadata on ${done.join('; ')}` };
  },
};
