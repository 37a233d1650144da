import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  StagecoachApiClient,
  type CreateFreightRequest,
  type EntityPipeline,
  type Freight,
  type FreightList,
  type ProjectCredentialList,
  type Promotion,
  type Stage,
  type StageFreightList,
  type TypedResponse,
  type Verification,
  type VerificationList,
} from '@stagecoach/plugin-stagecoach-common';
import type {
  FreightPageQuery,
  StagecoachApi,
  StagecoachEntityRef,
} from './StagecoachApi';

export {
  stagecoachApiRef,
  type FreightPageQuery,
  type StagecoachApi,
  type StagecoachEntityRef,
} from './StagecoachApi';

/**
 * The StagecoachApi over the client generated from the backend's OpenAPI document, which
 * builds each request; this adds the failure handling the UI relies on: an answer that is not
 * 2xx throws a ResponseError, which carries the server's message (see errors.ts).
 */
export class StagecoachClient implements StagecoachApi {
  private readonly api: StagecoachApiClient;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.api = new StagecoachApiClient(options);
  }

  async getEntityPipeline(ref: StagecoachEntityRef): Promise<EntityPipeline> {
    const { kind, namespace, name } = ref;
    return body(
      this.api.getEntityPipeline({ path: { kind, namespace, name } }),
    );
  }

  async getStageFreight(project: string, stage: string): Promise<FreightList> {
    return body(this.api.listFreight({ path: { project }, query: { stage } }));
  }

  async listStageFreight(
    project: string,
    stage: string,
    page?: FreightPageQuery & { available?: boolean },
  ): Promise<StageFreightList> {
    return body(
      this.api.listStageFreight({
        path: { project, stage },
        ...(page ? { query: page } : {}),
      }),
    );
  }

  async listFreight(
    project: string,
    page?: FreightPageQuery & { warehouse?: string },
  ): Promise<FreightList> {
    return body(
      this.api.listFreight({
        path: { project },
        ...(page ? { query: page } : {}),
      }),
    );
  }

  async approveFreight(
    project: string,
    freight: string,
    stage: string,
  ): Promise<Freight> {
    return body(
      this.api.approveFreight({ path: { project, freight }, body: { stage } }),
    );
  }

  async releaseAutoPromotionHold(
    project: string,
    stage: string,
    origin?: string,
  ): Promise<Stage> {
    return body(
      this.api.releaseAutoPromotionHold({
        path: { project, stage },
        query: { origin },
      }),
    );
  }

  async promote(
    project: string,
    stage: string,
    freight: string,
  ): Promise<Promotion> {
    return body(
      this.api.createPromotion({ path: { project, stage }, body: { freight } }),
    );
  }

  async createFreight(
    project: string,
    request: CreateFreightRequest,
  ): Promise<Freight> {
    return body(this.api.createFreight({ path: { project }, body: request }));
  }

  async getPromotion(project: string, id: string): Promise<Promotion> {
    return body(this.api.getPromotion({ path: { project, id } }));
  }

  async abortPromotion(project: string, id: string): Promise<Promotion> {
    return body(this.api.abortPromotion({ path: { project, id } }));
  }

  async listVerifications(
    project: string,
    stage: string,
    limit?: number,
  ): Promise<VerificationList> {
    return body(
      this.api.listVerifications({
        path: { project, stage },
        query: { limit },
      }),
    );
  }

  async getVerification(project: string, id: string): Promise<Verification> {
    return body(this.api.getVerification({ path: { project, id } }));
  }

  async reverify(project: string, stage: string): Promise<Verification> {
    return body(this.api.reverify({ path: { project, stage } }));
  }

  async abortVerification(
    project: string,
    stage: string,
  ): Promise<Verification> {
    return body(this.api.abortVerification({ path: { project, stage } }));
  }

  async listProjectCredentials(
    project: string,
  ): Promise<ProjectCredentialList> {
    return body(this.api.listProjectCredentials({ path: { project } }));
  }
}

/** The JSON of a 2xx answer; a ResponseError with what the server said otherwise. */
async function body<T>(answer: Promise<TypedResponse<T>>): Promise<T> {
  const response = await answer;
  if (!response.ok) {
    throw await ResponseError.fromResponse(response);
  }
  return response.json();
}
