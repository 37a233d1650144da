import path from 'node:path';
import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests: the real app and backend with the demo pipeline, driven in Debian's
 * Chromium. Run with `yarn test:e2e` (or `./stagecoachw test`, which installs Chromium).
 *
 * The backend starts with app-config.e2e.yaml on top of app-config.yaml: the demo on a
 * throwaway data folder, deleted first so that every run starts fresh.
 */

const root = __dirname;
const e2eDataDir = path.join(root, 'node_modules/.cache/stagecoach-e2e');
const configArgs = ['app-config.yaml', 'app-config.e2e.yaml']
  .map(file => `--config ${JSON.stringify(path.join(root, file))}`)
  .join(' ');

// Webpack/rspack's first build of the app takes minutes on a small machine.
const START_TIMEOUT = 300_000;

export default defineConfig({
  testDir: 'e2e-tests',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  // The promotion test changes the demo's state; a retry would not start from a fresh demo.
  retries: 0,
  timeout: 240_000,
  expect: { timeout: 15_000 },

  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'e2e-test-report' }],
  ],
  outputDir: 'test-results',

  webServer: [
    {
      name: 'backend',
      // the backend log goes to e2e-tests/artifacts/backend.log: read it when a test fails
      command: `rm -rf ${JSON.stringify(e2eDataDir)} && exec yarn workspace backend start ${configArgs} > e2e-tests/artifacts/backend.log 2>&1`,
      url: 'http://localhost:7007/.backstage/health/v1/readiness',
      reuseExistingServer: !process.env.CI,
      timeout: START_TIMEOUT,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    },
    {
      name: 'app',
      command: 'yarn workspace app start',
      url: 'http://localhost:3000',
      reuseExistingServer: !process.env.CI,
      timeout: START_TIMEOUT,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { BROWSER: 'none' }, // no browser window for the dev server
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
  ],

  use: {
    baseURL: 'http://localhost:3000',
    viewport: { width: 1440, height: 1000 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },

  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
});
