import { z } from 'zod';
import { readConfigFile } from './files';
import { extractOutputs, outputRulesSchema, parseJson } from './structuredData';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    outputs: outputRulesSchema,
  })
  .strict();

/** Reads values out of a JSON file into named outputs. */
export const jsonParse: StepDefinition<z.infer<typeof schema>> = {
  name: 'json-parse',
  description: 'Read values from a JSON file into outputs, each picked by an expression.',
  schema,
  async run(ctx, config) {
    const { text } = await readConfigFile(ctx.workDir, config.path);
    const outputs = extractOutputs(parseJson(text, config.path), config.outputs);
    return { status: 'Succeeded', message: `read ${Object.keys(outputs).join(', ')} from ${config.path}`, outputs };
  },
};
