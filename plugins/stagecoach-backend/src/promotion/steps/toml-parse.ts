import { z } from 'zod';
import { readConfigFile } from './files';
import { extractOutputs, outputRulesSchema } from './structuredData';
import { parseToml, plainTomlValue } from './tomlFile';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    outputs: outputRulesSchema,
  })
  .strict();

/** Reads values out of a TOML file into named outputs. */
export const tomlParse: StepDefinition<z.infer<typeof schema>> = {
  name: 'toml-parse',
  description: 'Read values from a TOML file into outputs, each picked by an expression.',
  schema,
  async run(ctx, config) {
    const { text } = await readConfigFile(ctx.workDir, config.path);
    const document = plainTomlValue(parseToml(text, config.path));
    const outputs = extractOutputs(document, config.outputs);
    return { status: 'Succeeded', message: `read ${Object.keys(outputs).join(', ')} from ${config.path}`, outputs };
  },
};
