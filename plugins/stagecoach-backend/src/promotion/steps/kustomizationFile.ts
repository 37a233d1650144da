import fs from 'node:fs/promises';
import path from 'node:path';
import { StepConfigError } from '../workDir';

/** The names kustomize itself recognises, in its order. */
export const KUSTOMIZATION_FILE_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/**
 * The kustomization file in a folder. Kustomize refuses a folder with more than one, so
 * the step does too rather than edit the one kustomize would not read.
 */
export async function findKustomization(dir: string, given: string, field = 'path'): Promise<string> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat) throw new StepConfigError(`${field} "${given}" does not exist`);
  if (!stat.isDirectory()) {
    throw new StepConfigError(`${field} "${given}" must be the folder that holds the kustomization file, not a file`);
  }
  const found: string[] = [];
  for (const name of KUSTOMIZATION_FILE_NAMES) {
    const s = await fs.lstat(path.join(dir, name)).catch(() => undefined);
    if (s?.isFile()) found.push(name);
  }
  if (found.length === 0) {
    throw new StepConfigError(`${field} "${given}" has no ${KUSTOMIZATION_FILE_NAMES.join(', ')}`);
  }
  if (found.length > 1) {
    throw new StepConfigError(`${field} "${given}" has more than one kustomization file (${found.join(', ')}): keep one`);
  }
  return path.join(dir, found[0]);
}
