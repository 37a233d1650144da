import { InputError } from '@backstage/errors';

/**
 * What `PUT /projects/{p}/manifests` asks besides the YAML: `?prune=true` (remove the
 * warehouses and stages the set does not define) and the source revision (`?revision=` or
 * the JSON body's `"revision"`), recorded in the apply history.
 */
export function readApplyRequest(query: Record<string, unknown>, body: unknown): { prune: boolean; revision?: string } {
  const prune = query.prune;
  if (prune !== undefined && prune !== 'true' && prune !== 'false') {
    throw new InputError('prune must be true or false (?prune=true removes the warehouses and stages the manifests do not define)');
  }
  const fromQuery = query.revision;
  const fromBody = typeof body === 'object' && body !== null ? (body as { revision?: unknown }).revision : undefined;
  for (const r of [fromQuery, fromBody]) {
    if (r !== undefined && typeof r !== 'string') throw new InputError('revision must be a single text value, such as a commit SHA');
  }
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw new InputError('the revision is given twice, differently (?revision= and "revision")');
  }
  return { prune: prune === 'true', revision: (fromQuery ?? fromBody) as string | undefined };
}
