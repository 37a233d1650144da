import { expect, test } from '@playwright/test';
import {
  API,
  authHeaders,
  openSignedIn,
  waitForCatalogEntity,
} from './support';

test.describe('REST API with the static token', () => {
  test('GET /projects answers a caller with the token, listing the demo project', async ({
    request,
  }) => {
    const res = await request.get(`${API}/projects`, { headers: authHeaders });
    expect(res.status(), await res.text()).toBe(200);
    const body = await res.json();
    expect(body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'demo', warehouses: 1, stages: 3 }),
      ]),
    );
  });

  test('GET /projects refuses a caller without credentials', async ({
    request,
  }) => {
    const res = await request.get(`${API}/projects`);
    expect(res.status()).toBe(401);
  });

  test('GET /projects refuses a wrong token', async ({ request }) => {
    const res = await request.get(`${API}/projects`, {
      headers: { Authorization: 'Bearer not-the-token' },
    });
    expect(res.status()).toBe(401);
  });
});

test.describe('the REST API in the catalog', () => {
  test('the OpenAPI document is served without credentials, and the API explorer shows it', async ({
    page,
    request,
  }) => {
    const doc = await request.get(`${API}/openapi.json`);
    expect(doc.status(), await doc.text()).toBe(200);
    const spec = await doc.json();
    // served with the paths as the backend mounts them
    expect(Object.keys(spec.paths)).toContain(
      '/api/stagecoach/projects/{project}/stages/{stage}/promotions',
    );

    await waitForCatalogEntity(request, 'api:default/stagecoach');
    await openSignedIn(page, '/api-docs');
    await page.getByRole('link', { name: 'Stagecoach REST API' }).click();
    await page.getByRole('tab', { name: 'Definition' }).click();
    // Swagger UI renders the document: its description, and the promotions operations
    await expect(
      page.getByText(/Stagecoach's REST API: projects, warehouses/).first(),
    ).toBeVisible({ timeout: 60_000 });
    await expect(
      page.getByRole('heading', { name: 'promotions' }),
    ).toBeVisible();
  });
});
