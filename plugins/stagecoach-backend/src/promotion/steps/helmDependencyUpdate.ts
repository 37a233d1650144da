import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { parse } from 'yaml';
import { ChartIndex, chartVersionOfTag, noSuchChart, parseChartIndex, tagOfChartVersion } from '../../integrations/helm/chartIndex';
import { HttpExchangeError, isSuccessStatus, readBody, shownUrl, statusLine, streamBody } from '../../integrations/http/exchange';
import { describeRepository, ImageRepository, parseImageRepository } from '../../integrations/registry';
import { downloadBlob } from '../../integrations/registry/blobTransfer';
import { parseSemverConstraint } from '../../util/semverConstraint';
import { confinedPath, StepConfigError } from '../workDir';
import { Dependency, formatHelmLock, helmLockDigest, LockedDependency } from './helmChartLock';
import { MAX_OCI_DOWNLOAD_BYTES, registryFailure } from './oci-download';
import { stepExchange } from './stepExchange';
import type { StepContext } from './types';

/**
 * What `helm dependency update` does, without Helm: every dependency of Chart.yaml resolved
 * against its repository (the newest version its range allows), Chart.lock written as Helm
 * writes it, and the archives downloaded into charts/. Chart.yaml itself is not changed.
 */

/** As large as a chart archive may be (as oci-download and http-download). */
const MAX_ARCHIVE_BYTES = MAX_OCI_DOWNLOAD_BYTES;
/** Public indexes reach tens of MiB. */
const MAX_INDEX_BYTES = 100 * 2 ** 20;
/** The layer of a Helm chart pushed to an OCI registry. */
export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

type Archive =
  | { kind: 'http'; url: string; sha256?: string }
  | { kind: 'oci'; repo: ImageRepository; tag: string };

interface Resolved {
  locked: LockedDependency;
  /** Where its archive comes from; none for a chart already in charts/ or a file:// one. */
  archive?: Archive;
  label: string;
}

export interface DependencyUpdate {
  locked: LockedDependency[];
  /** The locked versions that changed (from: the version locked before, if any). */
  changes: { name: string; from?: string; to: string }[];
  /** Whether Chart.lock was written (it is not when it already held these versions). */
  lockWritten: boolean;
  /** Archives written into charts/, and the older ones removed. */
  downloaded: string[];
  removed: string[];
}

/** The newest of the versions the range allows. */
function newestSatisfying(versions: string[], range: semver.Range): string | undefined {
  let best: { v: string; parsed: semver.SemVer } | undefined;
  for (const v of versions) {
    const parsed = semver.parse(v);
    if (parsed && range.test(parsed) && (!best || semver.gt(parsed, best.parsed))) best = { v, parsed };
  }
  return best?.v;
}

/** `2.1.0, 2.0.0, ... (and 40 more)`: what a repository offers, newest first. */
function offered(versions: string[]): string {
  const valid = versions.filter(v => semver.valid(v)).sort(semver.rcompare);
  if (valid.length === 0) return versions.length ? `no semantic versions (${versions.slice(0, 5).join(', ')})` : 'no versions';
  return `${valid.slice(0, 10).join(', ')}${valid.length > 10 ? ` and ${valid.length - 10} more` : ''}`;
}

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** A problem in what the user wrote fails the step; a server error may pass on a retry. */
function answerProblem(status: number, message: string): Error {
  return status >= 400 && status < 500 && status !== 408 && status !== 429 ? new StepConfigError(message) : new Error(message);
}

class Resolver {
  private readonly indexes = new Map<string, Promise<ChartIndex>>();

  constructor(
    private readonly ctx: StepContext,
    private readonly chartDir: string,
  ) {}

  async resolve(dep: Dependency, i: number, shownFile: string): Promise<Resolved> {
    const name = text(dep.name);
    const alias = text(dep.alias);
    const label = `${shownFile} dependencies[${i}]${name ? ` (${name}${alias ? `, alias ${alias}` : ''})` : ''}`;
    if (!name) throw new StepConfigError(`${label} has no name`);
    const constraint = text(dep.version);
    const repository = text(dep.repository);
    const range = constraint ? parseSemverConstraint(constraint) : null;
    if (!range) {
      throw new StepConfigError(
        `${label}: version "${constraint}" is not a version or a semver range (such as 1.2.3, ^1.2.0 or ~1.4)`,
      );
    }
    // a chart kept in charts/ (no repository): Helm locks what Chart.yaml says
    if (!repository) return { locked: { name, repository, version: constraint }, label };
    if (repository.startsWith('file://')) {
      return { locked: { name, repository, version: await this.localVersion(repository, constraint, range, label) }, label };
    }
    if (/^oci:\/\//i.test(repository)) return this.fromRegistry(name, repository, constraint, range, label);
    if (/^https?:\/\//i.test(repository)) return this.fromIndex(name, repository, constraint, range, label);
    throw new StepConfigError(
      `${label}: repository "${repository}" names a Helm repository by its local name, which only a Helm ` +
        "installation's repositories.yaml knows; write the repository's URL (https://... or oci://...)",
    );
  }

  /** A file:// dependency is left where it is; Helm locks the version of the chart found there. */
  private async localVersion(repository: string, constraint: string, range: semver.Range, label: string): Promise<string> {
    const folder = path.resolve(this.chartDir, repository.slice('file://'.length));
    const local = await confinedPath(this.ctx.workDir, path.relative(this.ctx.workDir, folder) || '.', label).catch(() => {
      throw new StepConfigError(`${label}: repository "${repository}" is not a folder inside the promotion's work directory`);
    });
    const chart = await fs.readFile(path.join(local, 'Chart.yaml'), 'utf8').catch(() => {
      throw new StepConfigError(`${label}: repository "${repository}" is not a Helm chart: it has no Chart.yaml`);
    });
    const version = text((parse(chart, { schema: 'failsafe' }) as Record<string, unknown> | null)?.version);
    if (!semver.valid(version) || !range.test(version)) {
      throw new StepConfigError(`${label}: the chart in "${repository}" is version "${version}", which "${constraint}" does not allow`);
    }
    return version;
  }

  private async fromRegistry(name: string, repository: string, constraint: string, range: semver.Range, label: string): Promise<Resolved> {
    let repo: ImageRepository;
    try {
      repo = parseImageRepository(`${repository.replace(/^oci:\/\//i, '').replace(/\/+$/, '')}/${name}`);
    } catch (e) {
      throw new StepConfigError(`${label}: repository "${repository}" is not an OCI registry address: ${(e as Error).message}`);
    }
    const tags = await this.ctx.registry
      .listTags(repo, { egress: this.ctx.egress, signal: this.ctx.signal })
      .catch(registryFailure);
    const versions = tags.map(chartVersionOfTag);
    const version = exactOrNewest(versions, constraint, range);
    if (!version) {
      throw new StepConfigError(
        `${label}: no version of ${describeRepository(repo)} satisfies "${constraint}" (its versions: ${offered(versions)})`,
      );
    }
    return { locked: { name, repository, version }, archive: { kind: 'oci', repo, tag: tagOfChartVersion(version) }, label };
  }

  private async fromIndex(name: string, repository: string, constraint: string, range: semver.Range, label: string): Promise<Resolved> {
    const index = await this.index(repository);
    const entries = index.get(name);
    if (!entries) throw new StepConfigError(`${label}: ${noSuchChart(index, repository, name)}`);
    const versions = entries.map(e => e.version);
    const version = exactOrNewest(versions, constraint, range);
    if (!version) {
      throw new StepConfigError(
        `${label}: no version of chart "${name}" in ${repository} satisfies "${constraint}" (its versions: ${offered(versions)})`,
      );
    }
    const entry = entries.find(e => e.version === version)!;
    if (!entry.urls.length) throw new StepConfigError(`${label}: ${repository} gives no URL for ${name} ${version} in its index.yaml`);
    let url: URL;
    try {
      url = new URL(entry.urls[0], `${repository.replace(/\/+$/, '')}/`);
    } catch {
      throw new StepConfigError(`${label}: ${repository} gives "${entry.urls[0]}" as the URL of ${name} ${version}, which is not a URL`);
    }
    if (!/^https?:$/.test(url.protocol)) {
      throw new StepConfigError(`${label}: ${repository} gives ${shownUrl(url)} as the URL of ${name} ${version}; only http(s) is fetched`);
    }
    return {
      locked: { name, repository, version },
      archive: { kind: 'http', url: url.href, ...(entry.digest ? { sha256: entry.digest } : {}) },
      label,
    };
  }

  /** The repository's index.yaml, read once per step. */
  private index(repository: string): Promise<ChartIndex> {
    const key = repository.replace(/\/+$/, '');
    let found = this.indexes.get(key);
    if (!found) {
      found = stepExchange(
        this.ctx,
        {
          method: 'GET',
          url: `${key}/index.yaml`,
          headers: [{ name: 'Accept', value: 'application/x-yaml, text/yaml, */*' }],
          queryParams: [],
          timeout: '2m',
        },
        async (res, what) => {
          if (!isSuccessStatus(res.status)) {
            await res.body?.cancel().catch(() => undefined);
            throw answerProblem(res.status, `chart repository ${repository}: ${what} answered ${statusLine(res.status)}`);
          }
          const body = await readBody(res, MAX_INDEX_BYTES, what);
          try {
            return parseChartIndex(body.toString('utf8'), repository);
          } catch (e) {
            throw new StepConfigError((e as Error).message);
          }
        },
      );
      this.indexes.set(key, found);
    }
    return found;
  }
}

/** An exact version Chart.yaml pins is taken as written when the repository has it (`v1.2.3` too). */
function exactOrNewest(versions: string[], constraint: string, range: semver.Range): string | undefined {
  if (versions.includes(constraint)) return constraint;
  return newestSatisfying(versions, range);
}

async function downloadArchive(ctx: StepContext, archive: Archive, file: string, label: string): Promise<void> {
  if (archive.kind === 'oci') {
    const call = { egress: ctx.egress, signal: ctx.signal };
    const shown = `${describeRepository(archive.repo)}:${archive.tag}`;
    const manifest = await ctx.registry.getManifestBytes(archive.repo, archive.tag, call).catch(registryFailure);
    let layers: { digest?: unknown; size?: unknown; mediaType?: unknown }[] = [];
    try {
      layers = JSON.parse(manifest.body.toString('utf8'))?.layers ?? [];
    } catch {
      // not JSON: no layers, said below
    }
    const layer = Array.isArray(layers) ? layers.find(l => l?.mediaType === HELM_CHART_LAYER && typeof l.digest === 'string') : undefined;
    if (!layer) throw new StepConfigError(`${label}: ${shown} is not a Helm chart (it has no layer of media type ${HELM_CHART_LAYER})`);
    await downloadBlob(
      ctx.registry,
      archive.repo,
      { digest: layer.digest as string, ...(typeof layer.size === 'number' ? { size: layer.size } : {}) },
      file,
      { ...call, maxBytes: MAX_ARCHIVE_BYTES, timeoutMs: 10 * 60_000 },
    ).catch(registryFailure);
    return;
  }
  const spec = { method: 'GET', url: archive.url, headers: [], queryParams: [], timeout: '10m' };
  const hash = createHash('sha256');
  await stepExchange(ctx, spec, async (res, what) => {
    if (!isSuccessStatus(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      throw answerProblem(res.status, `${label}: ${what} answered ${statusLine(res.status)}`);
    }
    const out = await fs.open(file, 'wx');
    try {
      await streamBody(res, MAX_ARCHIVE_BYTES, what, async chunk => {
        hash.update(chunk);
        await out.write(chunk);
      });
    } finally {
      await out.close();
    }
  });
  if (archive.sha256 && hash.digest('hex') !== archive.sha256) {
    throw new HttpExchangeError(`${label}: the archive at ${shownUrl(archive.url)} does not match the digest its index.yaml gives`);
  }
}

/** The lock there was: its digest and entries, when it can be read. */
async function readLock(file: string): Promise<{ digest?: string; dependencies: LockedDependency[] } | undefined> {
  const content = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (content === undefined) return undefined;
  try {
    const lock = parse(content, { schema: 'failsafe' }) as { digest?: unknown; dependencies?: unknown } | null;
    const deps = Array.isArray(lock?.dependencies) ? lock!.dependencies : [];
    return {
      digest: typeof lock?.digest === 'string' ? lock.digest : undefined,
      dependencies: deps.map((d: any) => ({ name: text(d?.name), repository: text(d?.repository), version: text(d?.version) })),
    };
  } catch {
    return { dependencies: [] };
  }
}

/** `<name>-<a version>.tgz`: an archive `helm dependency update` would have put there for that chart. */
function isArchiveOf(file: string, name: string): boolean {
  if (!file.startsWith(`${name}-`) || !file.endsWith('.tgz')) return false;
  return semver.valid(file.slice(name.length + 1, -'.tgz'.length)) !== null;
}

/**
 * Resolves, downloads and locks the dependencies of the chart in `chartDir` (Chart.yaml's
 * `requested`). Nothing in the chart changes unless every dependency resolved and downloaded.
 */
export async function updateDependencies(
  ctx: StepContext,
  chartDir: string,
  shownFile: string,
  requested: Dependency[],
): Promise<DependencyUpdate> {
  const resolver = new Resolver(ctx, chartDir);
  const resolved: Resolved[] = [];
  for (const [i, dep] of requested.entries()) resolved.push(await resolver.resolve(dep, i, shownFile));

  const chartsDir = await confinedPath(ctx.workDir, path.relative(ctx.workDir, path.join(chartDir, 'charts')), 'path', { writes: true });
  const archives = new Map<string, Resolved>();
  for (const r of resolved) if (r.archive) archives.set(`${r.locked.name}-${r.locked.version}.tgz`, r);
  const downloaded: string[] = [];
  const removed: string[] = [];
  if (archives.size) {
    await fs.mkdir(chartsDir, { recursive: true });
    const staging = path.join(chartsDir, `.download-${randomBytes(4).toString('hex')}`);
    await fs.mkdir(staging);
    try {
      for (const [file, r] of archives) await downloadArchive(ctx, r.archive!, path.join(staging, file), r.label);
      for (const file of archives.keys()) {
        await fs.rename(path.join(staging, file), path.join(chartsDir, file));
        downloaded.push(`charts/${file}`);
      }
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    // older archives of these charts would render beside the new ones
    const names = [...new Set([...archives.values()].map(r => r.locked.name))];
    for (const file of (await fs.readdir(chartsDir)).sort()) {
      if (!archives.has(file) && names.some(n => isArchiveOf(file, n))) {
        await fs.rm(path.join(chartsDir, file), { force: true });
        removed.push(`charts/${file}`);
      }
    }
  }

  const locked = resolved.map(r => r.locked);
  const lockFile = path.join(chartDir, 'Chart.lock');
  const before = await readLock(lockFile);
  const digest = helmLockDigest(requested, locked as unknown as Dependency[]);
  const changes: DependencyUpdate['changes'] = [];
  locked.forEach((l, i) => {
    const old = before?.dependencies[i]?.name === l.name ? before.dependencies[i] : before?.dependencies.find(d => d.name === l.name);
    if (old?.version !== l.version) changes.push({ name: l.name, ...(old ? { from: old.version } : {}), to: l.version });
  });
  // as Helm: a lock that already holds these versions is left as it is
  const lockWritten = before?.digest !== digest;
  if (lockWritten) await fs.writeFile(lockFile, formatHelmLock(locked, digest, new Date()));
  return { locked, changes, lockWritten, downloaded, removed };
}
