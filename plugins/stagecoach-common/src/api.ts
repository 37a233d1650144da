/**
 * The REST API's resource shapes (base path `/api/stagecoach`): the contract between the
 * backend, the frontend, the CLI and the scaffolder actions. They are generated from the
 * OpenAPI document, plugins/stagecoach-backend/src/schema/openapi.yaml (`yarn
 * generate:openapi` in that package), where each field is described; field names follow
 * Kargo's where Kargo has one. This module names them for the plugins that import them.
 */
import type * as Generated from './schema/openapi/generated';

export type GitCommit = Generated.GitCommit;
export type Image = Generated.Image;
export type Chart = Generated.Chart;
export type ArtifactLabel = Generated.ArtifactLabel;
export type FreightOrigin = Generated.FreightOrigin;
export type FreightRef = Generated.FreightRef;
export type Freight = Generated.Freight;
export type FreightStatus = Generated.FreightStatus;
export type DeepLink = Generated.DeepLink;
export type FreightVerification = Generated.FreightVerification;
export type FreightApproval = Generated.FreightApproval;
export type FreightSources = Generated.FreightSources;
export type RequestedFreight = Generated.RequestedFreight;
export type PromotionPhase = Generated.PromotionPhase;
export type StepStatus = Generated.StepStatus;
export type PromotionStep = Generated.PromotionStep;
export type Promotion = Generated.Promotion;
export type Stage = Generated.Stage;
export type StageHealthStatus = Generated.StageHealthStatus;
export type StageHealth = Generated.StageHealth;
export type ArgoCdApp = Generated.ArgoCdApp;
export type ArgoCdAppHealth = Generated.ArgoCdAppHealth;
export type VerificationPhase = Generated.VerificationPhase;
export type MeasurementPhase = Generated.MeasurementPhase;
export type Measurement = Generated.Measurement;
export type MetricResult = Generated.MetricResult;
export type Verification = Generated.Verification;
export type VerificationList = Generated.VerificationList;
export type AutoPromotionHold = Generated.AutoPromotionHold;
export type ApproveFreightRequest = Generated.ApproveFreightRequest;
export type StageFreightAvailability = Generated.StageFreightAvailability;
export type StageFreightList = Generated.StageFreightList;
export type WarehouseStatus = Generated.WarehouseStatus;
export type FreightCreationPolicy = Generated.FreightCreationPolicy;
export type Warehouse = Generated.Warehouse;
export type CreateFreightRequest = Generated.CreateFreightRequest;
export type ProjectSummary = Generated.ProjectSummary;
export type LastApplied = Generated.LastApplied;
export type ManifestResourceChanges = Generated.ManifestResourceChanges;
export type ManifestChanges = Generated.ManifestChanges;
export type ManifestApply = Generated.ManifestApply;
export type ApplyManifestsResult = Generated.ApplyManifestsResult;
export type ManifestRemovals = Generated.ManifestRemovals;
export type ManifestProblem = Generated.ManifestProblem;
export type ManifestWarning = Generated.ManifestWarning;
export type ProjectCredential = Generated.ProjectCredential;
export type ProjectCredentialList = Generated.ProjectCredentialList;
export type ClusterPromotionTask = Generated.ClusterPromotionTask;
export type ClusterConfig = Generated.ClusterConfig;
export type ClusterManifests = Generated.ClusterManifests;
export type ClusterManifestChanges = Generated.ClusterManifestChanges;
export type ClusterTaskUse = Generated.ClusterTaskUse;
export type ApplyClusterManifestsResult = Generated.ApplyClusterManifestsResult;
export type ClusterManifestApply = Generated.ClusterManifestApply;
export type EntityPipeline = Generated.EntityPipeline;
export type PipelineSource = Generated.PipelineSource;
export type FreightList = Generated.FreightList;
export type PromotionList = Generated.PromotionList;

/** The phases a promotion ends in. */
export const FINAL_PROMOTION_PHASES: readonly PromotionPhase[] = [
  'Succeeded',
  'Failed',
  'Errored',
  'Aborted',
];

/** The phases a verification ends in; Successful is the only one that verifies the freight. */
export const FINAL_VERIFICATION_PHASES: readonly VerificationPhase[] = [
  'Successful',
  'Failed',
  'Error',
  'Inconclusive',
  'Aborted',
];
