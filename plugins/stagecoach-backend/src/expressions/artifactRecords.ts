import { ExpressionError } from './errors';

/**
 * Artifacts as `${{ }}` expressions see them (`imageFrom(x).Tag`): every field readable by
 * Stagecoach's name (`tag`) and by Kargo's Go name (`Tag`); a field the artifact does not
 * have is an ExpressionError that names it and the fields that exist, never a silent empty
 * value. A field the kind declares but this artifact lacks (a commit without a tag) reads
 * as "", as Kargo's zero value does.
 *
 * The record is a plain copy of the artifact (so it goes into config, `toJSON` and the like
 * with Stagecoach's field names); what it may be asked for is kept beside it.
 */

/** A kind's fields: Stagecoach's name → Kargo's (`{ id: 'ID', repoURL: 'RepoURL' }`). */
export type ArtifactFieldNames = Readonly<Record<string, string>>;

interface Shape {
  /** The artifact in messages: `the commit from https://…`. */
  what: string;
  /** Either spelling → the stored field. */
  byName: ReadonlyMap<string, string>;
  /** Kargo's names, then Stagecoach's, for messages. */
  kargo: string[];
  own: string[];
}

const shapes = new WeakMap<object, Shape>();

/** Kargo's Go name of a field no kind declared: `repoURL` → `RepoURL`, `id` → `ID`. */
export function kargoFieldName(field: string): string {
  if (field === 'id') return 'ID';
  return field.charAt(0).toUpperCase() + field.slice(1);
}

/**
 * A copy of the artifact that expressions read strictly. `fields` are the kind's declared
 * ones; without them (a module's kind), the artifact's own fields and their capitalised names.
 */
export function artifactRecord<T extends object>(artifact: T, what: string, fields?: ArtifactFieldNames): T {
  const copy = { ...artifact };
  const declared: Record<string, string> = { ...(fields ?? {}) };
  for (const own of Object.keys(copy)) declared[own] ??= kargoFieldName(own);
  const byName = new Map<string, string>();
  for (const [own, kargo] of Object.entries(declared)) {
    byName.set(own, own);
    byName.set(kargo, own);
  }
  shapes.set(copy, { what, byName, own: Object.keys(declared), kargo: Object.values(declared) });
  return copy;
}

/** Whether expressions read this value strictly (it came from `commitFrom` and the like). */
export function isArtifactRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && shapes.has(value);
}

/** A field of an artifact record, by either spelling; ExpressionError when it has none of that name. */
export function readArtifactField(record: object, key: string): unknown {
  const shape = shapes.get(record);
  if (!shape) throw new Error('not an artifact record');
  const own = shape.byName.get(key);
  if (own === undefined) {
    throw new ExpressionError(
      `${shape.what} has no field "${key}" (its fields: ${shape.kargo.join(', ')}; or as Stagecoach writes them: ${shape.own.join(', ')})`,
    );
  }
  const value = Object.prototype.hasOwnProperty.call(record, own) ? (record as Record<string, unknown>)[own] : undefined;
  return value ?? '';
}

/** Whether an artifact record has a field of this name (for `"Tag" in imageFrom(x)`). */
export function hasArtifactField(record: object, key: string): boolean {
  return shapes.get(record)?.byName.has(key) ?? false;
}
