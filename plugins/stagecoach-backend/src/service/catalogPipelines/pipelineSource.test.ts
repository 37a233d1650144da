import type { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { pipelineLocation } from './pipelineSource';
import { locateProblem } from './readPipeline';

const integrations = ScmIntegrations.fromConfig(new ConfigReader({}));
const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'shop', annotations },
});

describe('stagecoach.io/pipeline-ref', () => {
  it('resolves dir: against the source location, else the location the entity came from, as techdocs-ref', () => {
    expect(
      pipelineLocation(
        entity({
          'backstage.io/source-location':
            'url:https://github.com/acme/shop/tree/main/',
          'backstage.io/managed-by-location':
            'url:https://github.com/acme/catalog/blob/main/shop.yaml',
          'stagecoach.io/pipeline-ref': 'dir:./deploy/stagecoach',
        }),
        integrations,
      ),
    ).toEqual({
      url: 'https://github.com/acme/shop/tree/main/deploy/stagecoach',
      shape: 'tree',
    });
    expect(
      pipelineLocation(
        entity({
          'backstage.io/managed-by-location':
            'url:https://github.com/acme/shop/blob/main/catalog-info.yaml',
          'stagecoach.io/pipeline-ref': 'dir:stagecoach/pipeline.yaml',
        }),
        integrations,
      ),
    ).toEqual({
      url: 'https://github.com/acme/shop/tree/main/stagecoach/pipeline.yaml',
      shape: 'file',
    });
    expect(
      pipelineLocation(
        entity({
          'stagecoach.io/pipeline-ref': 'url:https://example.com/p/stages.yml',
        }),
        integrations,
      ),
    ).toEqual({ url: 'https://example.com/p/stages.yml', shape: 'file' });
  });

  it('says what is wrong with a ref it cannot use', () => {
    expect(() =>
      pipelineLocation(
        entity({ 'stagecoach.io/pipeline-ref': 'git:./x' }),
        integrations,
      ),
    ).toThrow(
      "stagecoach.io/pipeline-ref must be dir:<path> (relative to the entity's source location) or url:<url>, not 'git:./x'",
    );
    expect(() =>
      pipelineLocation(
        entity({
          'backstage.io/managed-by-location': 'file:/tmp/shop.yaml',
          'stagecoach.io/pipeline-ref': 'dir:.',
        }),
        integrations,
      ),
    ).toThrow(
      'which is of type file: only url locations are read (use url:<url>)',
    );
    expect(() =>
      pipelineLocation(
        entity({ 'stagecoach.io/pipeline-ref': 'dir:.' }),
        integrations,
      ),
    ).toThrow('is relative, and the entity has no source location');
    expect(() =>
      pipelineLocation(
        entity({ 'stagecoach.io/pipeline-ref': 'url:not a url' }),
        integrations,
      ),
    ).toThrow("is not a URL: 'not a url'");
  });

  it('places a problem of a folder in its file, documents counted in the file', () => {
    const files = [
      { path: 'a-warehouse.yaml', documents: 1 },
      { path: 'b-stages.yaml', documents: 2 },
    ];
    expect(
      locateProblem({ document: 3, path: 'spec', message: 'm' }, files),
    ).toEqual({
      document: 2,
      file: 'b-stages.yaml',
      path: 'spec',
      message: 'm',
    });
    expect(
      locateProblem({ document: 1, path: '', message: 'm' }, undefined),
    ).toEqual({ document: 1, path: '', message: 'm' });
  });
});
