import { ResponseError } from '@backstage/errors';
import { StagecoachClient } from './StagecoachClient';
import { errorMessage } from './errors';

const baseUrl = 'http://localhost:7007/api/stagecoach';

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function setup(...responses: Response[]) {
  const fetch = jest.fn<Promise<Response>, [RequestInfo | URL, RequestInit?]>();
  for (const r of responses) fetch.mockResolvedValueOnce(r);
  const discoveryApi = { getBaseUrl: jest.fn().mockResolvedValue(baseUrl) };
  const client = new StagecoachClient({ discoveryApi, fetchApi: { fetch } });
  return { client, fetch, discoveryApi };
}

describe('StagecoachClient', () => {
  it('loads an entity pipeline from the stagecoach plugin, encoding the path', async () => {
    const pipeline = { project: 'shop', stages: [], freight: [] };
    const { client, fetch, discoveryApi } = setup(json(pipeline));

    await expect(
      client.getEntityPipeline({
        kind: 'Component',
        namespace: 'default',
        name: 'web/app',
      }),
    ).resolves.toEqual(pipeline);

    expect(discoveryApi.getBaseUrl).toHaveBeenCalledWith('stagecoach');
    expect(fetch).toHaveBeenCalledWith(
      `${baseUrl}/entities/Component/default/web%2Fapp/pipeline`,
      undefined,
    );
  });

  it('asks for the freight that may enter a stage and returns it as candidates', async () => {
    const freight = { id: 'abc', alias: 'brave-fox' };
    const { client, fetch } = setup(json({ items: [freight] }));

    await expect(client.getStageFreight('my shop', 'prod')).resolves.toEqual({
      items: [freight],
    });
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/my%20shop/freight?stage=prod`,
    );
  });

  it('asks for every freight of a stage with its availability', async () => {
    const answer = {
      stage: 'prod',
      items: [
        {
          freight: { id: 'abc', alias: 'brave-fox' },
          available: false,
          reason: 'not verified in staging',
        },
      ],
    };
    const { client, fetch } = setup(json(answer));

    await expect(
      client.listStageFreight('my shop', 'prod/eu'),
    ).resolves.toEqual(answer);
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/my%20shop/stages/prod%2Feu/freight`,
    );
    expect(fetch.mock.calls[0][1]?.method ?? 'GET').toBe('GET');
  });

  it('asks for a page of freight with its cursor and search on the query string', async () => {
    const answer = { stage: 'prod', items: [], nextCursor: 'next' };
    const { client, fetch } = setup(json(answer), json({ items: [] }));

    await expect(
      client.listStageFreight('shop', 'prod', {
        q: 'v1.2',
        cursor: 'abc',
        limit: 25,
        available: true,
      }),
    ).resolves.toEqual(answer);
    const stageUrl = new URL(fetch.mock.calls[0][0] as string);
    expect(stageUrl.pathname).toMatch(
      /\/projects\/shop\/stages\/prod\/freight$/,
    );
    expect(Object.fromEntries(stageUrl.searchParams)).toEqual({
      q: 'v1.2',
      cursor: 'abc',
      limit: '25',
      available: 'true',
    });

    await client.listFreight('shop', { warehouse: 'app', q: 'fox' });
    const url = new URL(fetch.mock.calls[1][0] as string);
    expect(url.pathname).toMatch(/\/projects\/shop\/freight$/);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      warehouse: 'app',
      q: 'fox',
    });
  });

  it('approves freight for a stage with the stage in a JSON body', async () => {
    const freight = { id: 'abc', alias: 'brave-fox', approvedFor: ['prod'] };
    const { client, fetch } = setup(json(freight));

    await expect(
      client.approveFreight('shop', 'brave-fox', 'prod'),
    ).resolves.toEqual(freight);
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${baseUrl}/projects/shop/freight/brave-fox/approve`);
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('content-type')).toBe(
      'application/json',
    );
    expect(JSON.parse(String(init?.body))).toEqual({ stage: 'prod' });
  });

  it('carries the server message when approving is forbidden (403)', async () => {
    const message = 'not allowed to stagecoach.freight.approve';
    const { client } = setup(
      json(
        {
          error: { name: 'NotAllowedError', message },
          request: { method: 'POST', url: '/x' },
          response: { statusCode: 403 },
        },
        403,
      ),
    );
    const error = await client
      .approveFreight('shop', 'brave-fox', 'prod')
      .catch((e: unknown) => e);
    expect((error as ResponseError).statusCode).toBe(403);
    expect(errorMessage(error)).toBe(message);
  });

  it('releases an auto-promotion hold with DELETE, naming the warehouse in the query', async () => {
    const stage = { name: 'prod', autoPromotionHolds: [] };
    const { client, fetch } = setup(json(stage), json(stage));

    await expect(
      client.releaseAutoPromotionHold('shop', 'prod', 'shop app'),
    ).resolves.toEqual(stage);
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/shop/stages/prod/auto-promotion-hold?origin=shop%20app`,
    );
    expect(fetch.mock.calls[0][1]?.method).toBe('DELETE');

    // without an origin, every hold of the stage
    await client.releaseAutoPromotionHold('shop', 'prod');
    expect(fetch.mock.calls[1][0]).toBe(
      `${baseUrl}/projects/shop/stages/prod/auto-promotion-hold`,
    );
  });

  it('posts a promotion with the freight in a JSON body', async () => {
    const promotion = { id: 'p1', stage: 'prod', phase: 'Pending' };
    const { client, fetch } = setup(json(promotion, 202));

    await expect(client.promote('shop', 'prod', 'brave-fox')).resolves.toEqual(
      promotion,
    );
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${baseUrl}/projects/shop/stages/prod/promotions`);
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('content-type')).toBe(
      'application/json',
    );
    expect(JSON.parse(String(init?.body))).toEqual({ freight: 'brave-fox' });
  });

  it('posts freight to assemble as JSON, for created (201) and existing (200) freight alike', async () => {
    const freight = { id: 'f1', alias: 'first-release' };
    const { client, fetch } = setup(json(freight, 201), json(freight, 200));
    const request = {
      origin: { kind: 'Warehouse' as const, name: 'app' },
      commits: [{ repoURL: 'https://git.example.com/app.git', tag: 'v1.1.0' }],
      alias: 'first-release',
    };

    await expect(client.createFreight('my shop', request)).resolves.toEqual(
      freight,
    );
    await expect(client.createFreight('my shop', request)).resolves.toEqual(
      freight,
    );
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${baseUrl}/projects/my%20shop/freight`);
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('content-type')).toBe(
      'application/json',
    );
    expect(JSON.parse(String(init?.body))).toEqual(request);
  });

  it('gets one promotion', async () => {
    const { client, fetch } = setup(json({ id: 'p/1' }));
    await client.getPromotion('shop', 'p/1');
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/shop/promotions/p%2F1`,
    );
  });

  it("lists a stage's verifications, newest first, with an optional limit", async () => {
    const list = {
      items: [
        { id: 'v2', stage: 'prod/eu', phase: 'Running' },
        { id: 'v1', stage: 'prod/eu', phase: 'Successful' },
      ],
    };
    const { client, fetch } = setup(json(list), json(list));

    await expect(
      client.listVerifications('my shop', 'prod/eu', 10),
    ).resolves.toEqual(list);
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/my%20shop/stages/prod%2Feu/verifications?limit=10`,
    );
    expect(fetch.mock.calls[0][1]?.method ?? 'GET').toBe('GET');

    await client.listVerifications('shop', 'prod');
    expect(fetch.mock.calls[1][0]).toBe(
      `${baseUrl}/projects/shop/stages/prod/verifications`,
    );
  });

  it('gets one verification by ID', async () => {
    const verification = { id: 'v/1', phase: 'Failed', metrics: [] };
    const { client, fetch } = setup(json(verification));
    await expect(client.getVerification('shop', 'v/1')).resolves.toEqual(
      verification,
    );
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/shop/verifications/v%2F1`,
    );
  });

  it('verifies a stage again with a bodiless POST and answers the queued verification (202)', async () => {
    const verification = { id: 'v3', stage: 'prod', phase: 'Pending' };
    const { client, fetch } = setup(json(verification, 202));

    await expect(client.reverify('shop', 'prod')).resolves.toEqual(
      verification,
    );
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${baseUrl}/projects/shop/stages/prod/verification`);
    expect(init?.method).toBe('POST');
    expect(init?.body).toBeUndefined();
  });

  it('carries the server message when a stage without freight cannot be verified (409)', async () => {
    const message =
      'stage prod has no freight to verify: promote freight to it first';
    const { client } = setup(
      json(
        {
          error: { name: 'ConflictError', message },
          request: { method: 'POST', url: '/x' },
          response: { statusCode: 409 },
        },
        409,
      ),
    );
    const error = await client.reverify('shop', 'prod').catch(e => e);
    expect((error as ResponseError).statusCode).toBe(409);
    expect(errorMessage(error)).toBe(message);
  });

  it('aborts the running verification of a stage', async () => {
    const verification = {
      id: 'v3',
      stage: 'prod',
      phase: 'Aborted',
      abortRequestedBy: 'user:default/ada',
    };
    const { client, fetch } = setup(json(verification));

    await expect(client.abortVerification('shop', 'prod')).resolves.toEqual(
      verification,
    );
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`${baseUrl}/projects/shop/stages/prod/verification/abort`);
    expect(init?.method).toBe('POST');
  });

  it('carries the server message when aborting a verification is forbidden (403)', async () => {
    const message = 'not allowed to stagecoach.stage.verify';
    const { client } = setup(
      json(
        {
          error: { name: 'NotAllowedError', message },
          request: { method: 'POST', url: '/x' },
          response: { statusCode: 403 },
        },
        403,
      ),
    );
    const error = await client.abortVerification('shop', 'prod').catch(e => e);
    expect((error as ResponseError).statusCode).toBe(403);
    expect(errorMessage(error)).toBe(message);
  });

  it("lists a project's credentials, encoding the project", async () => {
    const answer = {
      items: [
        {
          name: 'shop-repo',
          type: 'git',
          repoURL: 'https://github.com/acme/shop.git',
          updatedAt: '2026-03-02T10:00:00Z',
        },
      ],
    };
    const { client, fetch } = setup(json(answer));
    await expect(client.listProjectCredentials('my shop')).resolves.toEqual(
      answer,
    );
    expect(fetch.mock.calls[0][0]).toBe(
      `${baseUrl}/projects/my%20shop/credentials`,
    );
  });

  it('throws a ResponseError that carries the server message on non-2xx', async () => {
    const message =
      'freight brave-fox has not been promoted successfully to "staging" yet';
    const { client } = setup(
      json(
        {
          error: { name: 'ConflictError', message },
          request: { method: 'POST', url: '/api/stagecoach/projects/shop' },
          response: { statusCode: 409 },
        },
        409,
      ),
    );

    const error = await client
      .promote('shop', 'prod', 'brave-fox')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect((error as ResponseError).statusCode).toBe(409);
    expect(errorMessage(error)).toBe(message);
  });

  it('throws on a non-JSON error response too', async () => {
    const { client } = setup(
      new Response('upstream unavailable', { status: 502 }),
    );
    const error = await client.getPromotion('shop', 'p1').catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(errorMessage(error)).toContain('upstream unavailable');
  });
});
