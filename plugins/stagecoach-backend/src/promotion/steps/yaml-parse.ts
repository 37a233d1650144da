import { z } from 'zod';
import { readConfigFile } from './files';
import { extractOutputs, outputRulesSchema, parseYamlDocument, yamlValue } from './structuredData';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    outputs: outputRulesSchema,
  })
  .strict();

/** Reads values out of a YAML file into named outputs. */
export const yamlParse: StepDefinition<z.infer<typeof schema>> = {
  name: 'yaml-parse',
  description: 'Read values from a YAML file into outputs, each picked by an expression.',
  schema,
  async run(ctx, config) {
    const { text } = await readConfigFile(ctx.workDir, config.path);
    const document = yamlValue(parseYamlDocument(text, config.path), config.path);
    const outputs = extractOutputs(document, config.outputs);
    return { status: 'Succeeded', message: `read ${Object.keys(outputs).join(', ')} from ${config.path}`, outputs };
  },
};
