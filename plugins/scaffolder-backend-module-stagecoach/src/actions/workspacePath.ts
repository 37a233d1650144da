import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import path from 'node:path';

/**
 * A path given in an action's input, resolved inside the task's workspace: an absolute path,
 * or one that climbs out of the workspace (`..`, a symbolic link), is refused naming the input.
 */
export function workspaceFile(
  workspacePath: string,
  input: string,
  value: string,
): string {
  if (path.isAbsolute(value)) {
    throw new InputError(
      `input ${input} "${value}" must be a path relative to the workspace, not an absolute one`,
    );
  }
  try {
    return resolveSafeChildPath(workspacePath, value);
  } catch {
    throw new InputError(
      `input ${input} "${value}" points outside the workspace; give a path inside it`,
    );
  }
}
