import path from 'node:path';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { startGitHttpServer } from '@stagecoach/git-server';
import { seedDemoRepos } from './seedDemoRepos';

export {
  seedDemoRepos,
  demoValues,
  DEMO_APP_TAGS,
  DEMO_REPOS,
} from './seedDemoRepos';
export type { SeedResult } from './seedDemoRepos';

/**
 * The Stagecoach demo: a local Git host for examples/demo/pipeline.yaml.
 *
 * When `stagecoach.demo.enabled` is true it seeds two bare repositories under
 * `<stagecoach.demo.dataDir>/git` on first start (an application repository with release tags,
 * and a GitOps repository with one values file per environment) and serves them over smart
 * HTTP on 127.0.0.1:`stagecoach.demo.gitPort`, pushes allowed. As a module of the stagecoach
 * plugin it starts before the plugin, so the repositories answer before the first discovery.
 */
export const stagecoachDemoModule = createBackendModule({
  pluginId: 'stagecoach',
  moduleId: 'demo',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        lifecycle: coreServices.lifecycle,
      },
      async init({ config, logger, lifecycle }) {
        if (!config.getOptionalBoolean('stagecoach.demo.enabled')) {
          return;
        }
        // relative to the backend's working directory (packages/backend under `yarn start`)
        const dataDir = path.resolve(
          config.getOptionalString('stagecoach.demo.dataDir') ??
            '.stagecoach-demo',
        );
        const port =
          config.getOptionalNumber('stagecoach.demo.gitPort') ?? 7008;
        const root = path.join(dataDir, 'git');

        const seeded = await seedDemoRepos(root);
        if (seeded.created.length > 0) {
          logger.info(
            `demo: created the Git repositories ${seeded.created.join(
              ', ',
            )} in ${root}`,
          );
        }
        if (seeded.reused.length > 0) {
          logger.info(
            `demo: reusing the Git repositories ${seeded.reused.join(
              ', ',
            )} in ${root}`,
          );
        }

        const served = await startGitHttpServer({
          root,
          port,
          host: '127.0.0.1',
        }).catch(e => {
          throw new Error(
            `demo: could not serve the demo Git repositories on 127.0.0.1:${port} (${e}); ` +
              'is another Stagecoach demo running? Set stagecoach.demo.gitPort or stop it.',
          );
        });
        logger.info(
          `demo: serving Git over HTTP: ${[...seeded.created, ...seeded.reused]
            .sort()
            .map(name => `${served.url}/${name}.git`)
            .join(', ')} (push allowed)`,
        );
        lifecycle.addShutdownHook(async () => {
          await served.close();
          logger.info('demo: Git server stopped');
        });
      },
    });
  },
});

export default stagecoachDemoModule;
