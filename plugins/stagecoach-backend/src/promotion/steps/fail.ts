import { z } from 'zod';
import { StepDefinition } from './types';

const schema = z
  .object({
    message: z.string().min(1).optional(),
  })
  .strict();

/** Ends the promotion as failed, on purpose (usually behind an `if`). */
export const fail: StepDefinition<z.infer<typeof schema>> = {
  name: 'fail',
  description: 'Fail the promotion with a message.',
  schema,
  async run(_ctx, config) {
    return { status: 'Failed', message: config.message ?? 'failed by a fail step' };
  },
};
