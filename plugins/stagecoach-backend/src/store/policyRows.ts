/** Row shapes of the stage-policy tables and columns (migrations/20261201000000_stage_policies.js). */

export interface StageLabelsColumn {
  labels_json?: string | null;
}

export interface FreightApprovalColumns {
  approved_at?: string | null;
  approved_by?: string | null;
}

export interface ProjectConfigRow {
  project: string;
  spec_json: string;
  applied_at: string;
}

export interface AutoPromotionHoldRow {
  project: string;
  stage: string;
  origin: string;
  freight_id: string;
  promotion_id: string | null;
  created_by: string | null;
  created_at: string;
  reason: string;
}

export interface AutoPromotionLeaseRow {
  project: string;
  stage: string;
  holder: string;
  expires_at: string;
}
