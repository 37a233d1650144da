import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { z } from 'zod';
import { confinedPath, pathInRepository, StepConfigError } from '../workDir';
import { checkOrigin, freightChart, fromOriginSchema, isChart } from './freightArtifacts';
import type { StoredFreight } from '../../store/FreightStore';
import { StepDefinition } from './types';
import { toStringLike } from './yamlStyle';

const chartSchema = z
  .object({
    repository: z.string().min(1),
    name: z.string().min(1),
    /** Only the dependency of this alias (the same chart listed twice under different aliases). */
    alias: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
    fromOrigin: fromOriginSchema.optional(),
  })
  .strict();

const schema = z
  .object({
    path: z.string().min(1),
    /** Omitted: every dependency the freight has a version of. */
    charts: z.array(chartSchema).min(1, 'list at least one dependency, or leave charts out to take every one the freight has').optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

type Dependency = Record<string, unknown>;

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

interface Change {
  index: number;
  name: string;
  from: string;
  to: string;
}

const trimSlashes = (url: string) => url.replace(/\/+$/, '');

function dependencyList(deps: unknown, shown: string, field: string): YAMLSeq {
  if (!isSeq(deps) || deps.items.length === 0) {
    throw new StepConfigError(`${field}: ${shown} has no dependencies`);
  }
  return deps;
}

function describeDependencies(list: YAMLSeq): string {
  return list.items
    .filter(isMap)
    .map(d => `${d.get('name')} from ${d.get('repository') || '(no repository)'}`)
    .join(', ');
}

type ChartEntry = NonNullable<Config['charts']>[number];

function applyChart(list: YAMLSeq, chart: ChartEntry, version: string, field: string, shown: string): Change | undefined {
  const index = list.items.findIndex(
    d =>
      isMap(d) &&
      d.get('name') === chart.name &&
      trimSlashes(String(d.get('repository') ?? '')) === trimSlashes(chart.repository) &&
      (chart.alias === undefined || d.get('alias') === chart.alias),
  );
  if (index < 0) {
    throw new StepConfigError(
      `${field}: ${shown} has no dependency "${chart.name}"${chart.alias ? ` (alias ${chart.alias})` : ''} from "${chart.repository}" (its dependencies: ${describeDependencies(list)})`,
    );
  }
  return setVersion(list, index, version);
}

function setVersion(list: YAMLSeq, index: number, version: string): Change | undefined {
  const dep = list.items[index] as YAMLMap;
  const from = String(dep.get('version') ?? '');
  if (from === version) return undefined;
  dep.set('version', version);
  return { index, name: String(dep.get('name')), from, to: version };
}

/**
 * `charts` omitted: every dependency whose repository and name are a chart of the freight
 * gets the freight's version; the others stay as they are. None at all fails, naming both.
 */
function applyFreightCharts(list: YAMLSeq, freight: StoredFreight, shown: string): Change[] {
  const changes: Change[] = [];
  let matched = 0;
  list.items.forEach((d, index) => {
    if (!isMap(d)) return;
    const found = freight.artifacts.charts.find(c => isChart(c, String(d.get('repository') ?? ''), String(d.get('name') ?? '')));
    if (!found) return;
    matched++;
    const change = setVersion(list, index, found.version);
    if (change) changes.push(change);
  });
  if (matched === 0) {
    const charts = freight.artifacts.charts;
    const has = charts.length
      ? `its charts: ${charts.map(c => `${c.name ? `${trimSlashes(c.repoURL)} ${c.name}` : c.repoURL}:${c.version}`).join(', ')}`
      : 'it has no charts';
    throw new StepConfigError(
      `charts: none of the dependencies of ${shown} (${describeDependencies(list)}) is in the freight being promoted ` +
        `(${freight.alias}; ${has}); list the ones to update under charts with their versions ` +
        `(resolving Chart.yaml's version ranges against chart repositories needs Helm: helm-template's buildDependencies)`,
    );
  }
  return changes;
}

const exists = (file: string) => fs.stat(file).then(() => true, () => false);

/**
 * Brings Chart.lock in line with the new versions, as `helm dependency update` would for
 * pinned versions. When that cannot be done without Helm, the lock goes: a stale lock makes
 * `helm dependency build` refuse the chart, while a missing one makes it resolve Chart.yaml.
 */
async function updateLock(
  dir: string,
  before: Dependency[],
  after: Dependency[],
  changes: Change[],
): Promise<{ kind: 'none' | 'updated' } | { kind: 'removed'; reason: string }> {
  const lockFile = path.join(dir, 'Chart.lock');
  if (!(await exists(lockFile))) return { kind: 'none' };
  const text = await fs.readFile(lockFile, 'utf8');
  const doc = parseDocument(text);
  const lock = doc.toJS() ?? {};
  const lockDeps = doc.get('dependencies', true);
  let reason: string | undefined;
  if (doc.errors.length || !isSeq(lockDeps) || !Array.isArray(lock.dependencies)) reason = 'it is not a lock file Helm wrote';
  else if (helmLockDigest(before, lock.dependencies) !== lock.digest) {
    reason = 'it was already out of date with Chart.yaml (or names a repository by an alias only Helm can resolve)';
  } else {
    for (const c of changes) {
      const entry = lockDeps.items[c.index];
      if (!semver.valid(c.to)) reason = `version "${c.to}" of ${c.name} is a range, which only Helm can resolve`;
      else if (!isMap(entry) || entry.get('name') !== c.name) reason = 'its entries do not follow the dependencies of Chart.yaml';
      else entry.set('version', c.to);
    }
  }
  if (reason) {
    await fs.rm(lockFile);
    return { kind: 'removed', reason };
  }
  doc.set('digest', helmLockDigest(after, (doc.toJS() ?? {}).dependencies));
  doc.set('generated', new Date().toISOString());
  await fs.writeFile(lockFile, toStringLike(doc, text));
  return { kind: 'updated' };
}

/** The old version's archive in charts/ would render in place of the new one: remove it. */
async function removeStaleArchives(dir: string, changes: Change[]): Promise<string[]> {
  const removed: string[] = [];
  for (const c of changes) {
    const archive = path.join(dir, 'charts', `${c.name}-${c.from}.tgz`);
    if (await exists(archive)) {
      await fs.rm(archive);
      removed.push(`charts/${c.name}-${c.from}.tgz`);
    }
  }
  return removed;
}

/** Sets the versions of dependencies in a chart's Chart.yaml (keeping comments) and keeps Chart.lock consistent. */
export const helmUpdateChart: StepDefinition<Config> = {
  name: 'helm-update-chart',
  description: "Set dependency versions in a Helm chart's Chart.yaml, from the freight or as given.",
  schema,
  async run(ctx, config) {
    const dir = await confinedPath(ctx.workDir, config.path, 'path', { writes: true });
    const chartFile = path.join(dir, 'Chart.yaml');
    const text = await fs.readFile(chartFile, 'utf8').catch(e => {
      throw new StepConfigError(
        e.code === 'ENOENT' || e.code === 'ENOTDIR'
          ? `path "${config.path}" is not a Helm chart: it has no Chart.yaml`
          : `cannot read ${config.path}/Chart.yaml: ${e.message}`,
      );
    });
    const shownFile = pathInRepository(ctx.workDir, chartFile, path.join(config.path, 'Chart.yaml'));
    const shownChart = path.dirname(shownFile);
    const doc = parseDocument(text);
    if (doc.errors.length) throw new StepConfigError(`${shownFile} is not valid YAML: ${doc.errors[0].message}`);
    const list = dependencyList(doc.get('dependencies', true), shownFile, 'charts');
    const before: Dependency[] = (doc.toJS().dependencies ?? []) as Dependency[];

    const changes: Change[] = config.charts ? [] : applyFreightCharts(list, ctx.freight, shownFile);
    config.charts?.forEach((chart, i) => {
      const field = `charts[${i}]`;
      checkOrigin(ctx.freight, chart.fromOrigin, field);
      const version = chart.version ?? freightChart(ctx.freight, chart.repository, chart.name, field).version;
      const change = applyChart(list, chart, version, field, shownFile);
      if (change) changes.push(change);
    });
    if (changes.length === 0) {
      return { status: 'Succeeded', message: `${shownFile} already has these versions` };
    }
    await fs.writeFile(chartFile, toStringLike(doc, text));
    const lock = await updateLock(dir, before, doc.toJS().dependencies as Dependency[], changes);
    const archives = await removeStaleArchives(dir, changes);

    const lines = changes.map(c => `- ${c.name}: ${c.from || '(none)'} -> ${c.to}`).sort();
    const notes = [
      lock.kind === 'updated' ? 'updated Chart.lock' : '',
      lock.kind === 'removed' ? `removed Chart.lock: ${lock.reason}` : '',
      archives.length ? `removed ${archives.join(', ')}` : '',
    ].filter(Boolean);
    const lockLine = lock.kind === 'removed' ? `\n\nRemoved Chart.lock: ${lock.reason}.` : '';
    return {
      status: 'Succeeded',
      message: `updated ${shownFile}: ${changes.map(c => `${c.name} ${c.to}`).join(', ')}${notes.length ? `; ${notes.join('; ')}` : ''}`,
      outputs: { commitMessage: `Updated chart dependencies for ${shownChart}\n\n${lines.join('\n')}${lockLine}` },
    };
  },
};
