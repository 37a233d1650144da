import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { workTreeDir, workTreePathSchema } from './gitWorkTree';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: workTreePathSchema,
  })
  .strict();

/**
 * Empties a working tree, keeping only `.git`, so that a later step can write the whole
 * content afresh (rendered manifests) and git-commit records deletions too.
 */
export const gitClear: StepDefinition<z.infer<typeof schema>> = {
  name: 'git-clear',
  description: 'Remove every file from a working tree, keeping its .git.',
  schema,
  async run(ctx, config) {
    const dir = workTreeDir(ctx, config.path);
    const entries = (await fs.readdir(dir)).filter(name => name !== '.git');
    await Promise.all(entries.map(name => fs.rm(path.join(dir, name), { recursive: true, force: true })));
    return { status: 'Succeeded', message: `cleared ${config.path} (${entries.length} top-level entries removed)` };
  },
};
