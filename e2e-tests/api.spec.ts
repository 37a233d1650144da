import { expect, test } from '@playwright/test';
import { API, authHeaders } from './support';

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
