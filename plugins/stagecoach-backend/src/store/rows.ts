/** Row shapes of the Stagecoach tables (see migrations/). */

export interface WarehouseRow {
  project: string;
  name: string;
  spec_json: string;
  next_discovery_at: string | null;
  last_discovery_at: string | null;
  last_error: string | null;
  failure_count: number;
  observed_refs_hash: string | null;
  last_freight_id: string | null;
  discovered_json: string | null;
}

export interface StageRow {
  project: string;
  name: string;
  spec_json: string;
  current_freight_id: string | null;
  current_promotion_id: string | null;
  health_json?: string | null;
}

export interface FreightRow {
  project: string;
  id: string;
  alias: string;
  warehouse: string;
  artifacts_json: string;
  created_at: string;
}

export interface FreightStageRow {
  project: string;
  freight_id: string;
  stage: string;
  verified_at: string | null;
}

export interface PromotionRow {
  id: string;
  project: string;
  stage: string;
  freight_id: string;
  phase: string;
  message: string | null;
  steps_json: string;
  vars_json: string;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  claimed_by: string | null;
  claim_expires_at: string | null;
  attempts: number;
  current_step: number;
  wake_at: string | null;
  abort_requested_at: string | null;
  abort_requested_by: string | null;
}

export interface PromotionStepRow {
  promotion_id: string;
  idx: number;
  uses: string;
  alias: string;
  status: string;
  message: string | null;
  outputs_json: string | null;
  started_at: string | null;
  finished_at: string | null;
  error_count: number;
  state_json: string | null;
  health_check_json?: string | null;
}

export interface VerificationRow {
  id: string;
  project: string;
  stage: string;
  freight_id: string;
  promotion_id: string | null;
  phase: string;
  message: string | null;
  analysis_json: string | null;
  metrics_json: string | null;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  next_at: string | null;
  claimed_by: string | null;
  claim_expires_at: string | null;
  abort_requested_by: string | null;
}
