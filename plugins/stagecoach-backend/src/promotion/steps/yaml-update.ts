import fs from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { confinedPath, pathInRepository, StepConfigError } from '../workDir';
import { StepDefinition } from './types';
import { readPathText, setAtKeyPath } from './yamlFile';

const schema = z
  .object({
    path: z.string().min(1),
    updates: z
      .array(z.object({ key: z.string().min(1), value: z.unknown() }).strict())
      .min(1, 'needs at least one update'),
  })
  .strict();

/** Sets values at key paths in a YAML file, keeping its comments and formatting. */
export const yamlUpdate: StepDefinition<z.infer<typeof schema>> = {
  name: 'yaml-update',
  description: 'Set values in a YAML file by key path, keeping comments and formatting.',
  schema,
  async run(ctx, config) {
    const file = await confinedPath(ctx.workDir, config.path, 'path', { writes: true });
    const text = await readPathText(file, config.path);
    const doc = parseDocument(text);
    if (doc.errors.length) throw new StepConfigError(`"${config.path}" is not valid YAML: ${doc.errors[0].message}`);
    for (const u of config.updates) setAtKeyPath(doc, u.key, u.value);
    await fs.writeFile(file, doc.toString());
    const lines = config.updates.map(u => `- ${u.key}: ${JSON.stringify(u.value)}`);
    const shown = pathInRepository(ctx.workDir, file, config.path);
    return {
      status: 'Succeeded',
      message: `updated ${shown}: ${config.updates.map(u => u.key).join(', ')}`,
      outputs: { commitMessage: `Updated ${shown}\n\n${lines.join('\n')}` },
    };
  },
};
