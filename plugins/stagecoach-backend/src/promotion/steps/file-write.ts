import fs from 'node:fs/promises';
import { z } from 'zod';
import { StepConfigError } from '../workDir';
import { confinedPath } from '../workDir';
import { fileProblem, writeConfigFile } from './files';
import { StepDefinition } from './types';

const permissions = z
  .string()
  .regex(/^0[0-7]{3}$/, 'must be an octal file mode such as "0644"')
  // a promotion writes data files: making them runnable takes a deliberate extra step
  .refine(p => (parseInt(p, 8) & 0o111) === 0, 'must not make the file executable')
  .refine(p => (parseInt(p, 8) & 0o002) === 0, 'must not make the file writable by everyone');

const schema = z
  .object({
    path: z.string().min(1),
    contents: z.string(),
    permissions: permissions.default('0600'),
    overwrite: z.boolean().default(false),
  })
  .strict();

async function existing(file: string, given: string): Promise<'file' | 'folder' | undefined> {
  try {
    return (await fs.stat(file)).isDirectory() ? 'folder' : 'file';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileProblem(e, 'path', given);
  }
}

/** Writes text to a file, creating the folders above it. */
export const fileWrite: StepDefinition<z.infer<typeof schema>> = {
  name: 'file-write',
  description: 'Write text to a file in the work directory.',
  schema,
  async run(ctx, config) {
    const file = await confinedPath(ctx.workDir, config.path, 'path', { writes: true });
    const found = await existing(file, config.path);
    if (found === 'folder') throw new StepConfigError(`path "${config.path}" is a folder, not a file`);
    if (found === 'file' && !config.overwrite) {
      throw new StepConfigError(`path "${config.path}" already exists; set overwrite: true to replace it`);
    }
    await writeConfigFile(file, config.contents, 'path', config.path, parseInt(config.permissions, 8));
    const size = Buffer.byteLength(config.contents);
    return {
      status: 'Succeeded',
      message: `${found ? 'replaced' : 'wrote'} ${config.path} (${size} byte${size === 1 ? '' : 's'})`,
    };
  },
};
