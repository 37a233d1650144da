/*
 * The hand-written types of api.ts and the ones generated from the OpenAPI document
 * (yarn generate:openapi in the backend) have the same shape: tsc fails here when they drift apart.
 */
import type * as Api from '../../api';
import type * as Generated from './generated';

type Assert<T extends true> = T;

/**
 * Each is assignable to the other and, all the way down, they have the same properties:
 * assignability alone would let either side lack an optional one.
 */
type SameShape<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? SameKeys<A, B>
    : false
  : false;
type SameKeys<A, B> = A extends readonly (infer E)[]
  ? B extends readonly (infer F)[]
    ? SameShape<E, F>
    : false
  : A extends object
  ? [keyof A & string] extends [keyof B & string]
    ? [keyof B & string] extends [keyof A & string]
      ? AllTrue<{
          [K in keyof A]-?: SameShape<
            NonNullable<A[K]>,
            NonNullable<B[K & keyof B]>
          >;
        }>
      : false
    : false
  : true;
type AllTrue<T> = false extends T[keyof T] ? false : true;

export type HandWrittenTypesMatchTheSpec = [
  Assert<SameShape<Api.GitCommit, Generated.GitCommit>>,
  Assert<SameShape<Api.Image, Generated.Image>>,
  Assert<SameShape<Api.Chart, Generated.Chart>>,
  Assert<SameShape<Api.FreightOrigin, Generated.FreightOrigin>>,
  Assert<SameShape<Api.FreightRef, Generated.FreightRef>>,
  Assert<SameShape<Api.Freight, Generated.Freight>>,
  Assert<SameShape<Api.FreightStatus, Generated.FreightStatus>>,
  Assert<SameShape<Api.FreightVerification, Generated.FreightVerification>>,
  Assert<SameShape<Api.FreightApproval, Generated.FreightApproval>>,
  Assert<SameShape<Api.FreightSources, Generated.FreightSources>>,
  Assert<SameShape<Api.RequestedFreight, Generated.RequestedFreight>>,
  Assert<SameShape<Api.PromotionPhase, Generated.PromotionPhase>>,
  Assert<SameShape<Api.StepStatus, Generated.StepStatus>>,
  Assert<SameShape<Api.PromotionStep, Generated.PromotionStep>>,
  Assert<SameShape<Api.Promotion, Generated.Promotion>>,
  Assert<SameShape<Api.Stage, Generated.Stage>>,
  Assert<SameShape<Api.StageHealthStatus, Generated.StageHealthStatus>>,
  Assert<SameShape<Api.StageHealth, Generated.StageHealth>>,
  Assert<SameShape<Api.ArgoCdApp, Generated.ArgoCdApp>>,
  Assert<SameShape<Api.ArgoCdAppHealth, Generated.ArgoCdAppHealth>>,
  Assert<SameShape<Api.VerificationPhase, Generated.VerificationPhase>>,
  Assert<SameShape<Api.MeasurementPhase, Generated.MeasurementPhase>>,
  Assert<SameShape<Api.Measurement, Generated.Measurement>>,
  Assert<SameShape<Api.MetricResult, Generated.MetricResult>>,
  Assert<SameShape<Api.Verification, Generated.Verification>>,
  Assert<SameShape<Api.VerificationList, Generated.VerificationList>>,
  Assert<SameShape<Api.AutoPromotionHold, Generated.AutoPromotionHold>>,
  Assert<SameShape<Api.ApproveFreightRequest, Generated.ApproveFreightRequest>>,
  Assert<
    SameShape<Api.StageFreightAvailability, Generated.StageFreightAvailability>
  >,
  Assert<SameShape<Api.StageFreightList, Generated.StageFreightList>>,
  Assert<SameShape<Api.WarehouseStatus, Generated.WarehouseStatus>>,
  Assert<SameShape<Api.FreightCreationPolicy, Generated.FreightCreationPolicy>>,
  Assert<SameShape<Api.Warehouse, Generated.Warehouse>>,
  Assert<SameShape<Api.CreateFreightRequest, Generated.CreateFreightRequest>>,
  Assert<SameShape<Api.ProjectSummary, Generated.ProjectSummary>>,
  Assert<SameShape<Api.LastApplied, Generated.LastApplied>>,
  Assert<
    SameShape<Api.ManifestResourceChanges, Generated.ManifestResourceChanges>
  >,
  Assert<SameShape<Api.ManifestChanges, Generated.ManifestChanges>>,
  Assert<SameShape<Api.ManifestApply, Generated.ManifestApply>>,
  Assert<SameShape<Api.ApplyManifestsResult, Generated.ApplyManifestsResult>>,
  Assert<SameShape<Api.ManifestRemovals, Generated.ManifestRemovals>>,
  Assert<SameShape<Api.ManifestProblem, Generated.ManifestProblem>>,
  Assert<SameShape<Api.EntityPipeline, Generated.EntityPipeline>>,
  Assert<SameShape<Api.FreightList, Generated.FreightList>>,
  Assert<SameShape<Api.PromotionList, Generated.PromotionList>>,
];
