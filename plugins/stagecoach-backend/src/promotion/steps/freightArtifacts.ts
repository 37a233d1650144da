import type { Chart, GitCommit, Image } from '@stagecoach/plugin-stagecoach-common';
import { z } from 'zod';
import { parseImageRepository } from '../../integrations/registry/imageReference';
import type { StoredFreight } from '../../store/FreightStore';
import { normalizeGitURL } from '../../util/gitUrl';
import { StepConfigError } from '../workDir';

/**
 * `fromOrigin` of older Kargo manifests: which warehouse's freight to take an artifact from.
 * A promotion here carries one freight, so it can only confirm that warehouse.
 */
export const fromOriginSchema = z
  .object({ kind: z.literal('Warehouse'), name: z.string().min(1) })
  .strict();

export function checkOrigin(
  freight: StoredFreight,
  origin: z.infer<typeof fromOriginSchema> | undefined,
  field: string,
): void {
  if (origin && origin.name !== freight.warehouse) {
    throw new StepConfigError(
      `${field}.fromOrigin names warehouse "${origin.name}", but the freight being promoted comes from warehouse "${freight.warehouse}"`,
    );
  }
}

/** `nginx` and `docker.io/library/nginx` are one repository. */
function sameImageRepository(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const x = parseImageRepository(a);
    const y = parseImageRepository(b);
    return x.registry === y.registry && x.repository === y.repository;
  } catch {
    return false;
  }
}

function listImages(freight: StoredFreight): string {
  const images = freight.artifacts.images;
  return images.length
    ? `its images: ${images.map(i => `${i.repoURL}:${i.tag}`).join(', ')}`
    : 'it has no images';
}

/** The freight's image from this repository; the error names the image and what the freight has. */
export function freightImage(freight: StoredFreight, image: string, field: string): Image {
  const found = freight.artifacts.images.filter(i => sameImageRepository(i.repoURL, image));
  if (found.length === 0) {
    throw new StepConfigError(
      `${field} "${image}" is not in the freight being promoted (${freight.alias}; ${listImages(freight)})`,
    );
  }
  if (found.length > 1) {
    throw new StepConfigError(
      `${field} "${image}" is ambiguous: the freight being promoted has it ${found.length} times (${found.map(i => i.tag).join(', ')}); set the tag or digest explicitly`,
    );
  }
  return found[0];
}

/** The freight's commit of this repository (one spelling of its URL or another); the error names what the freight has. */
export function freightCommit(freight: StoredFreight, repoURL: string, field: string): GitCommit {
  const found = freight.artifacts.commits.find(c => normalizeGitURL(c.repoURL) === normalizeGitURL(repoURL));
  if (!found) {
    const commits = freight.artifacts.commits;
    const has = commits.length ? `its commits: ${commits.map(c => `${c.repoURL}@${c.id.slice(0, 7)}`).join(', ')}` : 'it has no commits';
    throw new StepConfigError(
      `${field}: the freight being promoted (${freight.alias}) has no commit of ${repoURL} (${has}); check out a branch, tag or commit instead`,
    );
  }
  return found;
}

const trimSlashes = (url: string) => url.replace(/\/+$/, '');

/**
 * Whether a freight chart is this Chart.yaml dependency. A classic repository names the
 * chart beside its URL; an OCI subscription's URL already ends with the chart's name,
 * while Chart.yaml splits it into registry URL and name.
 */
export function isChart(chart: Chart, repository: string, name: string): boolean {
  const repo = trimSlashes(repository);
  if (chart.name) return trimSlashes(chart.repoURL) === repo && chart.name === name;
  return trimSlashes(chart.repoURL) === `${repo}/${name}`;
}

/** The freight's version of this chart; the error names the chart and what the freight has. */
export function freightChart(freight: StoredFreight, repository: string, name: string, field: string): Chart {
  const found = freight.artifacts.charts.find(c => isChart(c, repository, name));
  if (!found) {
    const charts = freight.artifacts.charts;
    const has = charts.length
      ? `its charts: ${charts.map(c => `${c.name ? `${trimSlashes(c.repoURL)} ${c.name}` : c.repoURL}:${c.version}`).join(', ')}`
      : 'it has no charts';
    throw new StepConfigError(
      `${field}: chart "${name}" from "${repository}" is not in the freight being promoted (${freight.alias}; ${has}); set its version explicitly`,
    );
  }
  return found;
}
