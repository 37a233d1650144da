import { InputError } from '@backstage/errors';

/** What an apply asks besides the YAML. */
export interface ApplyRequest {
  prune: boolean;
  /** Only where the scope allows it (the cluster scope's `?merge=true`). */
  merge?: boolean;
  revision?: string;
}

const yesOrNo = (query: Record<string, unknown>, name: string, what: string): boolean => {
  const value = query[name];
  if (value !== undefined && value !== 'true' && value !== 'false') {
    throw new InputError(`${name} must be true or false (?${name}=true ${what})`);
  }
  return value === 'true';
};

/**
 * What `PUT /projects/{p}/manifests` and `PUT /cluster/manifests` ask besides the YAML:
 * `?prune=true` (remove what the set does not define), on the cluster scope `?merge=true`
 * (`scope.merge`: add and update what the set defines, keep the rest; never with prune; the
 * OpenAPI router refuses it on a project's route), and the source revision (`?revision=` or
 * the JSON body's `"revision"`), recorded in the apply history.
 */
export function readApplyRequest(query: Record<string, unknown>, body: unknown, scope: { merge?: boolean } = {}): ApplyRequest {
  const prune = yesOrNo(query, 'prune', 'removes what the manifests do not define');
  let merge = false;
  if (scope.merge) {
    merge = yesOrNo(query, 'merge', 'adds and updates the documents sent and keeps every other one');
    if (merge && prune) {
      throw new InputError('prune and merge cannot be asked together: ?merge=true keeps what the set does not define, ?prune=true removes it');
    }
  }
  const fromQuery = query.revision;
  const fromBody = typeof body === 'object' && body !== null ? (body as { revision?: unknown }).revision : undefined;
  for (const r of [fromQuery, fromBody]) {
    if (r !== undefined && typeof r !== 'string') throw new InputError('revision must be a single text value, such as a commit SHA');
  }
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw new InputError('the revision is given twice, differently (?revision= and "revision")');
  }
  return { prune, ...(scope.merge ? { merge } : {}), revision: (fromQuery ?? fromBody) as string | undefined };
}
