import { InputError } from '@backstage/errors';

/** A revision an apply names, as recorded: one line of at most 255 characters, or none. */
export function checkRevision(revision: string | undefined): string | undefined {
  if (revision === undefined || revision === '') return undefined;
  if (revision.length > 255 || !/^[\x21-\x7e]+$/.test(revision)) {
    throw new InputError(
      'revision must be at most 255 printable characters without spaces, such as a commit SHA or a tag',
    );
  }
  return revision;
}
