import { z } from 'zod';
import { FREIGHT_ALIAS_RULE, isFreightAlias } from '../../store/freightAlias';
import { StepConfigError } from '../workDir';
import { StepDefinition } from './types';

const schema = z
  .object({
    /** The freight to rename: its ID (Kargo's `name`) or its current alias; the promoted freight when left out. */
    name: z.string().min(1).optional(),
    alias: z.string().refine(isFreightAlias, `must be ${FREIGHT_ALIAS_RULE}`),
  })
  .strict();

/** Gives a freight of the project a new alias (aliases are unique in a project). */
export const setFreightAlias: StepDefinition<z.infer<typeof schema>> = {
  name: 'set-freight-alias',
  description: "Rename a freight of the project: set its alias (unique in the project).",
  schema,
  async run(ctx, config) {
    const name = config.name ?? ctx.freight.id;
    let renamed: { id: string; previous: string; alias: string };
    try {
      renamed = await ctx.freightAliases.set(name, config.alias);
    } catch (e) {
      // no freight of that name, or the alias taken: trying again would not change that
      const err = e as Error;
      if (err.name === 'ConflictError' || err.name === 'NotFoundError') throw new StepConfigError(err.message);
      throw e;
    }
    return {
      status: 'Succeeded',
      message:
        renamed.previous === renamed.alias
          ? `freight ${renamed.id} is already called ${renamed.alias}`
          : `freight ${renamed.id} renamed from ${renamed.previous} to ${renamed.alias}`,
    };
  },
};
