import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

/** A dependency as Chart.yaml lists it (its YAML read as-is). */
export type Dependency = Record<string, unknown>;

/** A Chart.lock entry: what Helm locks of a dependency. */
export interface LockedDependency {
  name: string;
  repository: string;
  version: string;
}

/**
 * Helm's own JSON for a dependency (Go's encoding of its Dependency struct): fields in the
 * struct's order, empty optional ones left out, map keys sorted, and `<`, `>`, `&` escaped.
 */
function helmDependencyJson(dep: Dependency): string {
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const fields: [string, unknown][] = [
    ['name', text(dep.name)],
    ['version', text(dep.version) || undefined],
    ['repository', text(dep.repository)],
    ['condition', text(dep.condition) || undefined],
    ['tags', Array.isArray(dep.tags) && dep.tags.length ? dep.tags.map(text) : undefined],
    ['enabled', dep.enabled === true ? true : undefined],
    ['import-values', Array.isArray(dep['import-values']) && dep['import-values'].length ? dep['import-values'] : undefined],
    ['alias', text(dep.alias) || undefined],
  ];
  return `{${fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`)
    .join(',')}}`;
}

function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object') {
    // Go sorts map keys bytewise (UTF-8); UTF-16 order differs only past U+FFFF
    const entries = Object.entries(value).sort(([a], [b]) => Number(a > b) - Number(a < b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The `digest` Helm writes into Chart.lock and checks before `helm dependency build`:
 * sha256 over the JSON of [Chart.yaml's dependencies, the locked ones].
 */
export function helmLockDigest(requested: Dependency[], locked: Dependency[]): string {
  const json = `[[${requested.map(helmDependencyJson).join(',')}],[${locked.map(helmDependencyJson).join(',')}]]`.replace(
    /[<>&\u2028\u2029]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `sha256:${createHash('sha256').update(json).digest('hex')}`;
}

/** A scalar as YAML needs it: quoted only when it would read as something else. */
const scalar = (text: string) => stringify(text).trimEnd();

/** Chart.lock as Helm writes it: the locked dependencies, the digest, and when (quoted, as Go writes a time). */
export function formatHelmLock(locked: LockedDependency[], digest: string, generated: Date): string {
  const lines = locked.length ? ['dependencies:'] : ['dependencies: []'];
  for (const d of locked) {
    lines.push(`- name: ${scalar(d.name)}`, `  repository: ${scalar(d.repository)}`, `  version: ${scalar(d.version)}`);
  }
  lines.push(`digest: ${digest}`, `generated: "${generated.toISOString()}"`, '');
  return lines.join('\n');
}
