import request from 'supertest';
import type { BackendFeature } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import stagecoachPlugin from '@stagecoach/plugin-stagecoach-backend';

/*
 * What the example modules' tests share: the Stagecoach plugin in a test backend, calls to
 * its API as a user, and a wait that gives up only when nothing moves.
 */

/** Long enough for any machine: the waits below fail when nothing moves, not after a total time. */
export const PROGRESS_TEST_TIMEOUT_MS = 30 * 60_000;

/** How long a wait may see the same answer before it gives up. */
const STALL_MS = 120_000;

/** The Stagecoach plugin with the given modules, everyone allowed, working in workDir. */
export const stagecoachFeatures = (
  workDir: string,
  ...modules: BackendFeature[]
) => [
  stagecoachPlugin,
  ...modules,
  catalogServiceMock.factory({ entities: [] }),
  mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
  mockServices.rootConfig.factory({
    // the tests' servers are on loopback, which production's egress policy refuses
    data: { stagecoach: { workDir, egress: { allowLoopback: true } } },
  }),
];

/** Requests to one project's part of the API, as user:default/jane. */
export function stagecoachApi(
  server: () => Parameters<typeof request>[0],
  project: string,
) {
  const api = (r: request.Test) =>
    r.set('Authorization', mockCredentials.user.header('user:default/jane'));
  const base = `/api/stagecoach/projects/${project}`;
  return {
    api,
    apply: (yaml: string) =>
      api(request(server()).put(`${base}/manifests`))
        .set('Content-Type', 'application/yaml')
        .send(yaml),
    get: (url: string) => api(request(server()).get(`${base}${url}`)),
  };
}

/**
 * Reads until `done` says yes. Fails only when the answer has stayed the same for two
 * minutes (a busy machine is slow, not wrong), naming what it waited for.
 */
export async function until<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
): Promise<T> {
  let last: string | undefined;
  let movedAt = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    const seen = JSON.stringify(value);
    if (seen !== last) {
      last = seen;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > STALL_MS) {
      throw new Error(
        `${what} did not happen: nothing moved for ${
          STALL_MS / 1000
        } s; last seen ${seen?.slice(0, 500)}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }
}
