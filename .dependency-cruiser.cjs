/**
 * The direction of imports inside the backend plugin (`yarn lint:deps`, run first by
 * `./stagecoachw test`). Layers, top to bottom; a layer imports only layers below it:
 *
 *   plugin.ts, index.ts       the Backstage adapter and the package's exports
 *   service/                  REST router, permissions, auditing, inbound webhooks
 *   schema/                   the OpenAPI contract and the code generated from it
 *   app/                      use-case services and the composition root
 *   features                  stages/, promotion/, verification/, discovery/, notify/, credentials/:
 *                             none imports another (what two of them share lives lower)
 *   store/                    Knex stores: they persist what manifests/ defines
 *   manifests/                Kargo's documents and the loop over the features' extensions
 *   core                      expressions/ and integrations/ (each may use util/), util/
 *
 * Tests (*.test.ts), their helpers (__testUtils__/) and fixtures (__fixtures__/) are exempt.
 */
const SRC = '^plugins/stagecoach-backend/src/';
const TESTS = ['\\.test\\.ts$', '/__testUtils__/', '/__fixtures__/'];
const FEATURES = '(stages|promotion|verification|discovery|notify|credentials)';

/** A rule: code under `from` may import, inside src/, only `allowed` (and itself). */
const onlyBelow = (name, from, allowed, comment) => ({
  name,
  severity: 'error',
  comment,
  from: { path: `${SRC}${from}`, pathNot: TESTS },
  to: {
    path: SRC,
    pathNot: [`${SRC}${from}`, ...allowed.map(a => `${SRC}${a}`)],
  },
});

const CORE = ['util/', 'expressions/', 'integrations/'];

module.exports = {
  forbidden: [
    onlyBelow(
      'util-imports-nothing',
      'util/',
      [],
      'util/ is the bottom of the backend: small helpers that need nothing else from src/',
    ),
    onlyBelow(
      'expressions-use-util-only',
      'expressions/',
      ['util/'],
      'the ${{ }} language is shared by steps, criteria and verification: it may use util/ only',
    ),
    onlyBelow(
      'integrations-use-util-only',
      'integrations/',
      ['util/'],
      'clients of the outside world (http with the egress policy, git, registries, scm, kubernetes, argocd) may use util/ only',
    ),
    onlyBelow(
      'manifests-below-features',
      'manifests/',
      CORE,
      'manifests/ reads Kargo documents and loops over the extensions features hand it: it imports no feature, no store',
    ),
    onlyBelow(
      'store-below-features',
      'store/',
      ['manifests/', ...CORE],
      'stores persist what manifests/ defines; they import no feature (move a shared type down instead)',
    ),
    {
      name: 'features-not-sideways',
      severity: 'error',
      comment:
        'a feature imports no other feature: what two features share belongs in store/, manifests/ or the core; the composition root (app/) wires them together',
      from: { path: `${SRC}${FEATURES}/`, pathNot: TESTS },
      to: { path: `${SRC}${FEATURES}/`, pathNot: `${SRC}$1/` },
    },
    onlyBelow(
      'features-below-app',
      FEATURES + '/',
      ['store/', 'manifests/', ...CORE],
      'features import only what is below them (store/, manifests/, the core), never app/, service/ or the plugin',
    ),
    onlyBelow(
      'app-below-service',
      'app/',
      [`${FEATURES}/`, 'store/', 'manifests/', ...CORE],
      'app/ composes the features; the REST layer and the plugin sit above it',
    ),
    onlyBelow(
      'schema-is-generated-contract',
      'schema/',
      [],
      'the OpenAPI contract and the code generated from it import nothing from src/',
    ),
    onlyBelow(
      'service-below-plugin',
      'service/',
      ['app/', 'schema/', `${FEATURES}/`, 'store/', 'manifests/', ...CORE],
      'the REST layer imports app/ and below, never the plugin or the package entry',
    ),
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no import cycles in the backend, type-only imports included',
      from: { path: SRC, pathNot: TESTS },
      to: { circular: true },
    },
    {
      name: 'no-test-helpers-in-code',
      severity: 'error',
      comment: 'test helpers and fixtures are for tests only',
      from: { path: SRC, pathNot: TESTS },
      to: { path: ['/__testUtils__/', '/__fixtures__/'] },
    },
  ],
  options: {
    // type-only imports count too: they are the ones that point upward unnoticed
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: SRC,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['/dist/', '/dist-types/'] },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.cjs', '.mjs', '.json'],
    },
  },
};
