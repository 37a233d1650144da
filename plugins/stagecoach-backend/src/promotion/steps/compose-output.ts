import { z } from 'zod';
import { StepDefinition } from './types';

const schema = z
  .record(z.string(), z.unknown())
  .refine(values => Object.keys(values).length > 0, 'needs at least one value');

/** Gathers values (usually expressions over earlier outputs) into this step's outputs. */
export const composeOutput: StepDefinition<z.infer<typeof schema>> = {
  name: 'compose-output',
  description: 'Make the configured values the outputs of this step.',
  schema,
  async run(_ctx, config) {
    return {
      status: 'Succeeded',
      message: `outputs: ${Object.keys(config).join(', ')}`,
      outputs: { ...config },
    };
  },
};
