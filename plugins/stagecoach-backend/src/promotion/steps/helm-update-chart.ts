import fs from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { z } from 'zod';
import { confinedPath, pathInRepository, StepConfigError } from '../workDir';
import { checkOrigin, freightChart, fromOriginSchema } from './freightArtifacts';
import { Dependency, helmLockDigest } from './helmChartLock';
import { updateDependencies } from './helmDependencyUpdate';
import { StepContext, StepDefinition, StepResult } from './types';
import { toStringLike } from './yamlStyle';

export { helmLockDigest } from './helmChartLock';

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
    /** Omitted: every dependency resolved against its repository, as `helm dependency update` does. */
    charts: z
      .array(chartSchema)
      .min(1, "list at least one dependency, or leave charts out to resolve Chart.yaml's versions against their repositories")
      .optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

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

/**
 * `charts` omitted: what `helm dependency update` does with Chart.yaml as it is. Each
 * dependency's range is resolved against its repository, Chart.lock pins the versions, and
 * charts/ gets their archives; Chart.yaml keeps its ranges.
 */
async function updateFromRepositories(ctx: StepContext, dir: string, deps: unknown, shownFile: string): Promise<StepResult> {
  if (!Array.isArray(deps) || deps.length === 0) {
    return { status: 'Succeeded', message: `${shownFile} has no dependencies: nothing to update` };
  }
  const shownChart = path.dirname(shownFile);
  const update = await updateDependencies(ctx, dir, shownFile, deps as Dependency[]);
  const files = [
    update.downloaded.length ? `downloaded ${update.downloaded.join(', ')}` : '',
    update.removed.length ? `removed ${update.removed.join(', ')}` : '',
  ].filter(Boolean);
  const versions = update.locked.map(l => `${l.name} ${l.version}`).join(', ');
  const lock = path.join(shownChart, 'Chart.lock');
  if (!update.lockWritten) {
    return { status: 'Succeeded', message: [`${lock} already locks the newest versions allowed: ${versions}`, ...files].join('; ') };
  }
  const lines = update.changes.map(c => `- ${c.name}: ${c.from ?? '(not locked)'} -> ${c.to}`).sort();
  return {
    status: 'Succeeded',
    message: [`locked ${versions} in ${lock}`, ...files].join('; '),
    outputs: {
      commitMessage: `Updated chart dependencies for ${shownChart}\n\n${lines.length ? lines.join('\n') : '- Chart.lock brought in line with Chart.yaml'}`,
    },
  };
}

/**
 * Sets the versions of dependencies in a chart's Chart.yaml (keeping comments) and keeps
 * Chart.lock consistent; without `charts`, resolves Chart.yaml's ranges as Helm does.
 */
export const helmUpdateChart: StepDefinition<Config> = {
  name: 'helm-update-chart',
  description:
    "Set dependency versions in a Helm chart's Chart.yaml, from the freight or as given; or resolve its ranges against their repositories.",
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
    if (!config.charts) return updateFromRepositories(ctx, dir, doc.toJS()?.dependencies, shownFile);
    const list = dependencyList(doc.get('dependencies', true), shownFile, 'charts');
    const before: Dependency[] = (doc.toJS().dependencies ?? []) as Dependency[];

    const changes: Change[] = [];
    config.charts.forEach((chart, i) => {
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
