import { getEntitySourceLocation, type Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import { ANNOTATION_PIPELINE_REF } from '@stagecoach/plugin-stagecoach-common';

/** Where an entity's pipeline manifests are: one YAML file, or every YAML file of a folder. */
export interface PipelineLocation {
  url: string;
  /** `file`: read with readUrl; `tree`: readTree, the folder's .yaml and .yml files in path order. */
  shape: 'file' | 'tree';
}

const YAML_FILE = /\.ya?ml$/i;

/** Whether a path in a tree is a manifest file. */
export const isManifestFile = (path: string) => YAML_FILE.test(path);

/**
 * Reads `stagecoach.io/pipeline-ref` as the techdocs-ref is read: `url:<url>` as it is, or
 * `dir:<path>` resolved against the entity's source location (`backstage.io/source-location`,
 * else the location the entity was read from), through the SCM integrations so the result is a
 * URL their readers take. A URL ending in .yaml or .yml is one file; any other, a folder.
 */
export function pipelineLocation(
  entity: Entity,
  integrations: Pick<ScmIntegrationRegistry, 'resolveUrl'>,
): PipelineLocation {
  const ref =
    entity.metadata.annotations?.[ANNOTATION_PIPELINE_REF]?.trim() ?? '';
  const colon = ref.indexOf(':');
  const type = colon > 0 ? ref.slice(0, colon) : '';
  const target = colon > 0 ? ref.slice(colon + 1).trim() : '';
  if (!target || (type !== 'dir' && type !== 'url')) {
    throw new InputError(
      `${ANNOTATION_PIPELINE_REF} must be dir:<path> (relative to the entity's source location) or url:<url>, not '${ref}'`,
    );
  }
  let url: string;
  if (type === 'url') {
    url = target;
  } else {
    let source: { type: string; target: string };
    try {
      source = getEntitySourceLocation(entity);
    } catch (e) {
      throw new InputError(
        `${ANNOTATION_PIPELINE_REF} ${ref} is relative, and the entity has no source location to resolve it against: ${
          (e as Error).message
        }`,
      );
    }
    if (source.type !== 'url') {
      throw new InputError(
        `${ANNOTATION_PIPELINE_REF} ${ref} is relative to the entity's source location, which is of type ${source.type}: only url locations are read (use url:<url>)`,
      );
    }
    url = integrations.resolveUrl({ url: target, base: source.target });
  }
  try {
    new URL(url); // eslint-disable-line no-new
  } catch {
    throw new InputError(
      `${ANNOTATION_PIPELINE_REF} ${ref} is not a URL: '${url}'`,
    );
  }
  return {
    url,
    shape: isManifestFile(new URL(url).pathname) ? 'file' : 'tree',
  };
}
