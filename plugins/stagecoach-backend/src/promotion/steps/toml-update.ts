import { z } from 'zod';
import { pathInRepository } from '../workDir';
import { readConfigFile, writeConfigFile } from './files';
import { parseToml, patchToml, setTomlValue } from './tomlFile';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    updates: z
      .array(
        z
          .object({
            key: z.string().min(1),
            value: z.unknown().refine(v => v !== undefined, 'is required'),
          })
          .strict(),
      )
      .min(1, 'needs at least one update'),
  })
  .strict();

/** Sets values in a TOML file by key path, keeping its comments and layout. */
export const tomlUpdate: StepDefinition<z.infer<typeof schema>> = {
  name: 'toml-update',
  description: 'Set values in a TOML file by key path, keeping comments and formatting.',
  schema,
  async run(ctx, config) {
    const { file, text } = await readConfigFile(ctx.workDir, config.path, 'path', { writes: true });
    const document = parseToml(text, config.path);
    config.updates.forEach((u, i) => setTomlValue(document, u.key, u.value, `updates[${i}].key`));
    await writeConfigFile(file, patchToml(text, document), 'path', config.path);
    const shown = pathInRepository(ctx.workDir, file, config.path);
    const lines = config.updates.map(u => `- ${u.key}: ${JSON.stringify(u.value)}`);
    return {
      status: 'Succeeded',
      message: `updated ${shown}: ${config.updates.map(u => u.key).join(', ')}`,
      outputs: { commitMessage: `Updated ${shown}\n\n${lines.join('\n')}` },
    };
  },
};
