import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import scaffolderModuleStagecoach from './index';

/**
 * The module inside Backstage's real scaffolder plugin (startTestBackend on loopback): the
 * actions are listed by the scaffolder's API, which is what /create/actions shows, with
 * their JSON schemas made from the zod ones, their examples and dry-run support.
 */
describe('the module in the real scaffolder plugin (loopback test backend)', () => {
  it("lists the five actions in the scaffolder's /v2/actions, with input schemas and examples", async () => {
    const backend = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModuleStagecoach,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({ data: {} }),
      ],
    });
    try {
      const res = await fetch(
        `http://localhost:${backend.server.port()}/api/scaffolder/v2/actions`,
        { headers: { Authorization: mockCredentials.user.header() } },
      );
      expect(res.status).toBe(200);
      const listed: Array<{
        id: string;
        examples?: unknown[];
        schema?: {
          input?: { properties?: Record<string, unknown>; required?: string[] };
        };
      }> = await res.json();
      const ours = listed.filter(a => a.id.startsWith('stagecoach:'));
      expect(ours.map(a => a.id).sort()).toEqual([
        'stagecoach:freight:create',
        'stagecoach:freight:wait',
        'stagecoach:manifests:apply',
        'stagecoach:pipeline:create',
        'stagecoach:promote',
      ]);
      for (const a of ours) expect(a.examples?.length).toBeGreaterThan(0);
      const promote = ours.find(a => a.id === 'stagecoach:promote')!;
      expect(promote.schema?.input?.required).toEqual(['project', 'stage']);
      expect(promote.schema?.input?.properties?.wait).toMatchObject({
        type: 'boolean',
        description: expect.stringContaining('wait until the promotion ends'),
      });
      const create = ours.find(a => a.id === 'stagecoach:freight:create')!;
      expect(create.schema?.input?.properties?.images).toMatchObject({
        type: 'array',
        items: { required: ['repoURL'] },
      });
    } finally {
      await backend.stop();
    }
  });
});
