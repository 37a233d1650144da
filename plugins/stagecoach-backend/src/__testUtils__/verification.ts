import type { Verification } from '@stagecoach/plugin-stagecoach-common';
import type { StagecoachEngine } from '../app';
import { until } from './until';

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
  const v = await until(
    async () => (await engine.stages.get(project, stage)).verification,
    x => x?.promotionId === promotionId && !['Pending', 'Running'].includes(x.phase),
    `the verification of ${project}/${stage} after promotion ${promotionId} ending`,
  );
  return v!;
}
