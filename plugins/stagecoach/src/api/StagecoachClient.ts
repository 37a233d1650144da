import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  CreateFreightRequest,
  EntityPipeline,
  Freight,
  FreightList,
  Promotion,
  Stage,
  StageFreightList,
  Verification,
  VerificationList,
} from '@stagecoach/plugin-stagecoach-common';
import type { StagecoachApi, StagecoachEntityRef } from './StagecoachApi';

export {
  stagecoachApiRef,
  type StagecoachApi,
  type StagecoachEntityRef,
} from './StagecoachApi';

const seg = encodeURIComponent;

/** Talks to the Stagecoach backend at `/api/stagecoach` through Backstage's fetch API. */
export class StagecoachClient implements StagecoachApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  async getEntityPipeline(ref: StagecoachEntityRef): Promise<EntityPipeline> {
    return this.request<EntityPipeline>(
      `/entities/${seg(ref.kind)}/${seg(ref.namespace)}/${seg(
        ref.name,
      )}/pipeline`,
    );
  }

  async getStageFreight(project: string, stage: string): Promise<FreightList> {
    return this.request<FreightList>(
      `/projects/${seg(project)}/freight?stage=${seg(stage)}`,
    );
  }

  async listStageFreight(
    project: string,
    stage: string,
  ): Promise<StageFreightList> {
    return this.request<StageFreightList>(
      `/projects/${seg(project)}/stages/${seg(stage)}/freight`,
    );
  }

  async approveFreight(
    project: string,
    freight: string,
    stage: string,
  ): Promise<Freight> {
    return this.request<Freight>(
      `/projects/${seg(project)}/freight/${seg(freight)}/approve`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ stage }),
      },
    );
  }

  async releaseAutoPromotionHold(
    project: string,
    stage: string,
    origin?: string,
  ): Promise<Stage> {
    const query = origin === undefined ? '' : `?origin=${seg(origin)}`;
    return this.request<Stage>(
      `/projects/${seg(project)}/stages/${seg(
        stage,
      )}/auto-promotion-hold${query}`,
      { method: 'DELETE' },
    );
  }

  async promote(
    project: string,
    stage: string,
    freight: string,
  ): Promise<Promotion> {
    return this.request<Promotion>(
      `/projects/${seg(project)}/stages/${seg(stage)}/promotions`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ freight }),
      },
    );
  }

  async createFreight(
    project: string,
    request: CreateFreightRequest,
  ): Promise<Freight> {
    return this.request<Freight>(`/projects/${seg(project)}/freight`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    });
  }

  async getPromotion(project: string, id: string): Promise<Promotion> {
    return this.request<Promotion>(
      `/projects/${seg(project)}/promotions/${seg(id)}`,
    );
  }

  async abortPromotion(project: string, id: string): Promise<Promotion> {
    return this.request<Promotion>(
      `/projects/${seg(project)}/promotions/${seg(id)}/abort`,
      { method: 'POST' },
    );
  }

  async listVerifications(
    project: string,
    stage: string,
    limit?: number,
  ): Promise<VerificationList> {
    const query = limit === undefined ? '' : `?limit=${seg(String(limit))}`;
    return this.request<VerificationList>(
      `/projects/${seg(project)}/stages/${seg(stage)}/verifications${query}`,
    );
  }

  async getVerification(project: string, id: string): Promise<Verification> {
    return this.request<Verification>(
      `/projects/${seg(project)}/verifications/${seg(id)}`,
    );
  }

  async reverify(project: string, stage: string): Promise<Verification> {
    return this.request<Verification>(
      `/projects/${seg(project)}/stages/${seg(stage)}/verification`,
      { method: 'POST' },
    );
  }

  async abortVerification(
    project: string,
    stage: string,
  ): Promise<Verification> {
    return this.request<Verification>(
      `/projects/${seg(project)}/stages/${seg(stage)}/verification/abort`,
      { method: 'POST' },
    );
  }

  private async request<T>(path: string, init?: RequestInit): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('stagecoach');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, init);
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
