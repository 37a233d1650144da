import type { UrlReaderService } from '@backstage/backend-plugin-api';
import { readPipeline } from './readPipeline';

/**
 * How a folder's files become one set. The tree is handed over as a URL reader's readTree
 * answers it (no SCM here: the catalogPipelines integration test reads files through
 * Backstage's real reader on a loopback web server).
 */
function treeReader(files: Record<string, string>, etag: string) {
  const calls: Array<{ url: string; etag?: string; kept: string[] }> = [];
  const reader = {
    readTree: async (
      url: string,
      options?: { etag?: string; filter?: (p: string) => boolean },
    ) => {
      const kept = Object.keys(files).filter(p => options?.filter?.(p) ?? true);
      calls.push({ url, etag: options?.etag, kept });
      return {
        etag,
        files: async () =>
          kept.map(path => ({
            path,
            content: async () => Buffer.from(files[path]),
          })),
      };
    },
  } as unknown as UrlReaderService;
  return { reader, calls };
}

describe('readPipeline of a folder', () => {
  it('joins the .yaml and .yml files in path order, each file its own documents, and passes the last ETag', async () => {
    const { reader, calls } = treeReader(
      {
        'stages.yaml':
          '---\nkind: Stage\nmetadata: {name: dev}\n---\nkind: Stage\nmetadata: {name: prod}\n\n\n',
        'README.md': '# not a manifest',
        'a/warehouse.yml': 'kind: Warehouse\nmetadata: {name: app}',
      },
      'sha1',
    );
    const read = await readPipeline(
      reader,
      { url: 'https://git.example.com/shop/tree/main/deploy', shape: 'tree' },
      'sha0',
    );
    expect(calls).toEqual([
      {
        url: 'https://git.example.com/shop/tree/main/deploy',
        etag: 'sha0',
        kept: ['stages.yaml', 'a/warehouse.yml'],
      },
    ]);
    expect(read.etag).toBe('sha1');
    expect(read.text).toBe(
      'kind: Warehouse\nmetadata: {name: app}\n---\nkind: Stage\nmetadata: {name: dev}\n---\nkind: Stage\nmetadata: {name: prod}',
    );
    expect(read.files).toEqual([
      { path: 'a/warehouse.yml', documents: 1 },
      { path: 'stages.yaml', documents: 2 },
    ]);
  });
});
