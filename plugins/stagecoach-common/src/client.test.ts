import { StagecoachApiClient } from './client';

const baseUrl = 'http://backend/api/stagecoach';

function setup() {
  const fetch = jest
    .fn<Promise<Response>, [RequestInfo | URL, RequestInit?]>()
    .mockResolvedValue(new Response('{}', { status: 200 }));
  const discoveryApi = { getBaseUrl: jest.fn().mockResolvedValue(baseUrl) };
  const api = new StagecoachApiClient({ discoveryApi, fetchApi: { fetch } });
  return { api, fetch, discoveryApi };
}

describe('the generated client (StagecoachApiClient)', () => {
  it("asks discovery for the plugin's base URL and sends a plain GET as fetch's default request", async () => {
    const { api, fetch, discoveryApi } = setup();
    await api.listProjects();
    expect(discoveryApi.getBaseUrl).toHaveBeenCalledWith('stagecoach');
    expect(fetch).toHaveBeenCalledWith(`${baseUrl}/projects`, undefined);
  });

  it('encodes path parameters and leaves out query parameters without a value', async () => {
    const { api, fetch } = setup();
    await api.listPromotions({
      path: { project: 'my shop/eu' },
      query: { stage: 'prod & eu', limit: undefined },
    });
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/my%20shop%2Feu/promotions?stage=prod%20%26%20eu`,
    );
  });

  it('sends a body as JSON, and a token as the bearer when one is given', async () => {
    const { api, fetch } = setup();
    await api.updateFreight(
      {
        path: { project: 'shop', freight: 'f1' },
        body: { alias: 'release-42' },
      },
      { token: 'secret' },
    );
    const [, init] = fetch.mock.calls[0];
    expect(init).toEqual({
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/json',
        Authorization: 'Bearer secret',
      },
      body: JSON.stringify({ alias: 'release-42' }),
    });
  });

  it('sends no header with a bodiless request', async () => {
    const { api, fetch } = setup();
    await api.refreshWarehouse({ path: { project: 'shop', warehouse: 'app' } });
    expect(fetch).toHaveBeenCalledWith(
      `${baseUrl}/projects/shop/warehouses/app/refresh`,
      { method: 'POST' },
    );
  });

  it('answers the response as it came, whatever its status: the caller decides', async () => {
    const { api, fetch } = setup();
    fetch.mockResolvedValueOnce(new Response('{"error":{}}', { status: 409 }));
    const response = await api.abortPromotion({
      path: { project: 'shop', id: 'p1' },
    });
    expect(response.status).toBe(409);
  });
});
