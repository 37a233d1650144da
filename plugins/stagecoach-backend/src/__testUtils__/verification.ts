import type { Verification } from '@stagecoach/plugin-stagecoach-common';
import type { StagecoachEngine } from '../engine';

/**
 * Waits for the verification a promotion queued to end, and returns it. A stage's freight
 * may go downstream only once it is verified, so a test that promotes down a pipeline waits
 * for this between stages.
 */
export async function verificationOf(
  engine: StagecoachEngine,
  project: string,
  stage: string,
  promotionId: string,
): Promise<Verification> {
  for (let i = 0; i < 600; i++) {
    const v = (await engine.getStage(project, stage)).verification;
    if (v?.promotionId === promotionId && !['Pending', 'Running'].includes(v.phase)) return v;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`the verification of ${project}/${stage} after promotion ${promotionId} did not end`);
}
