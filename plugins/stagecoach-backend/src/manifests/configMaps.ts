import type { ManifestKind } from './ManifestExtension';
import type { DocumentProblem } from './problems';

/**
 * Kubernetes `v1` ConfigMaps in a set of manifests: what Kargo's `configMap()` (a project's)
 * and `sharedConfigMap()` (the cluster scope's) read. Only `data` is kept, its values text;
 * they are stored as written (a ConfigMap is not secret: put secrets in a generic Secret).
 */

export interface ConfigMapDefinition {
  name: string;
  /** The ConfigMap's `data`: key → text. */
  data: Record<string, string>;
  /** Its position in the set. */
  document?: number;
}

/** `data.url`, `data["my key"]`. */
const keyPath = (key: string) => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `data.${key}` : `data[${JSON.stringify(key)}]`);

/** What Kubernetes allows as a ConfigMap key. */
const KEY = /^[-._a-zA-Z0-9]+$/;

/** Reads a ConfigMap's fields (`data`, `binaryData`, `immutable`): its data, or its problems. */
export function readConfigMapData(fields: Readonly<Record<string, unknown>>): { data?: Record<string, string>; problems: DocumentProblem[] } {
  const problems: DocumentProblem[] = [];
  const data: Record<string, string> = {};
  const raw = fields.data;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push({ path: 'data', message: 'must be a mapping of keys to text values' });
    } else {
      for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (!KEY.test(key) || key.length > 253) {
          problems.push({ path: keyPath(key), message: 'is not a ConfigMap key: letters, digits, "-", "_" and "." only, at most 253' });
        } else if (typeof value !== 'string') {
          problems.push({ path: keyPath(key), message: `must be text, not ${value === null ? 'null' : typeof value} (quote it: a ConfigMap holds strings)` });
        } else data[key] = value;
      }
    }
  }
  if (fields.binaryData !== undefined) {
    problems.push({ path: 'binaryData', message: 'is not read: configMap() returns text, so put the values under data' });
  }
  return problems.length ? { problems } : { data, problems };
}

/** `v1` ConfigMap in a project's manifests: a project config map, for `configMap()`. */
export const configMapKind: ManifestKind<ConfigMapDefinition> = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespaced: true,
  read: ({ name, fields }, { earlier }) => {
    const read = readConfigMapData(fields);
    const twin = earlier.find(e => e.name === name);
    if (twin) read.problems.push({ path: 'metadata.name', message: `ConfigMap/${name} is already defined in document ${twin.document}` });
    if (read.problems.length || !read.data) return { problems: read.problems };
    return { spec: { name, data: read.data }, problems: [] };
  },
};
