import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { APIRequestContext, expect, Page } from '@playwright/test';
// git with no user or system config: the same helper the demo and the backend tests use
import { git } from '../packages/git-server/src/repos';

export { git };

export const BACKEND_URL = 'http://localhost:7007';
export const API = `${BACKEND_URL}/api/stagecoach`;
/** The demo's Git host (stagecoach.demo.gitPort in app-config.e2e.yaml). */
export const GIT_URL = 'http://127.0.0.1:7008';
/** The static token of app-config.yaml (backend.auth.externalAccess). */
export const API_TOKEN =
  process.env.STAGECOACH_API_TOKEN || 'stagecoach-demo-token';
export const authHeaders = { Authorization: `Bearer ${API_TOKEN}` };

/** Where screenshots are kept between runs (gitignored), besides the test report. */
export const ARTIFACTS_DIR = path.join(__dirname, 'artifacts');

export interface FreightSummary {
  id: string;
  alias: string;
  commits: { repoURL: string; tag?: string; id: string }[];
}

/**
 * Waits until the catalog has ingested the demo entity: the catalog reads its file location
 * a few seconds after the backend starts.
 */
export async function waitForCatalogEntity(
  request: APIRequestContext,
  ref: string,
) {
  const [kind, namespace, name] = ref.split(/[:/]/);
  await expect
    .poll(
      async () =>
        (
          await request.get(
            `${BACKEND_URL}/api/catalog/entities/by-name/${kind}/${namespace}/${name}`,
            {
              headers: authHeaders,
            },
          )
        ).status(),
      {
        message: `catalog entity ${ref}`,
        timeout: 120_000,
        intervals: [1_000, 2_000],
      },
    )
    .toBe(200);
}

/** Waits until discovery has made freight of the given tag of the demo app, and returns it. */
export async function waitForFreight(
  request: APIRequestContext,
  project: string,
  tag: string,
): Promise<FreightSummary> {
  let found: FreightSummary | undefined;
  await expect
    .poll(
      async () => {
        const res = await request.get(`${API}/projects/${project}/freight`, {
          headers: authHeaders,
        });
        if (!res.ok())
          return `GET freight: HTTP ${res.status()} ${await res.text()}`;
        const items: FreightSummary[] = (await res.json()).items ?? [];
        found = items.find(f => f.commits?.some(c => c.tag === tag));
        return found ? 'found' : `${items.length} freight, none with ${tag}`;
      },
      {
        message: `freight with ${tag} in project ${project}`,
        timeout: 120_000,
        intervals: [1_000, 2_000],
      },
    )
    .toBe('found');
  return found!;
}

/**
 * Opens the app signed in as guest. The app signs guests in by itself (SignInPage `auto`
 * with the guest provider); should the sign-in page show instead, choose "Enter".
 */
export async function openSignedIn(page: Page, urlPath: string) {
  await page.goto(urlPath);
  const enter = page.getByRole('button', { name: 'Enter' });
  // the app's sidebar only shows once signed in
  const sidebar = page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link')
    .first();
  await expect(enter.or(sidebar).first()).toBeVisible({ timeout: 60_000 });
  if (await enter.isVisible()) {
    await enter.click();
    await expect(enter).toBeHidden({ timeout: 30_000 });
    await expect(sidebar).toBeVisible();
    if (!page.url().endsWith(urlPath)) await page.goto(urlPath);
  }
}

/** Clones a demo repository over HTTP into a temporary folder, runs `fn` in it, then removes it. */
export async function withClone<T>(
  repo: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-e2e-clone-'));
  try {
    await git(tmp, 'clone', '-q', `${GIT_URL}/${repo}.git`, 'repo');
    return await fn(path.join(tmp, 'repo'));
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
