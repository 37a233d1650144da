import { alertApiRef } from '@backstage/core-plugin-api';
import { TestApiProvider } from '@backstage/test-utils';
import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import {
  mockStagecoachApi,
  pipeline,
  stagingPromotion,
} from '../../__fixtures__/pipeline';
import { stagecoachApiRef, type StagecoachApi } from '../../api';
import { useStageActions } from './useStageActions';

function renderActions(api: StagecoachApi) {
  const alertApi = { post: jest.fn() };
  const reload = {
    refresh: jest.fn(),
    addPromotion: jest.fn(),
    updateStage: jest.fn(),
  };
  const wrapper = ({ children }: { children: ReactNode }) => (
    <TestApiProvider
      apis={[
        [stagecoachApiRef, api],
        [alertApiRef, alertApi],
      ]}
    >
      {children}
    </TestApiProvider>
  );
  const { result } = renderHook(() => useStageActions('shop', reload), {
    wrapper,
  });
  return { result, alertApi, reload };
}

/** A promise the test settles when it wants to. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>(r => {
    resolve = r;
  });
  return { promise, resolve };
}

const [dev] = pipeline.stages;

describe('useStageActions', () => {
  it('keeps a verification action pending until the API answers, then shows the answer', async () => {
    const answer = deferred<Awaited<ReturnType<StagecoachApi['reverify']>>>();
    const api = mockStagecoachApi({
      reverify: jest.fn().mockReturnValue(answer.promise),
    });
    const { result, reload, alertApi } = renderActions(api);

    let done: Promise<void>;
    act(() => {
      done = result.current.reverify(dev);
    });
    expect(result.current.isVerificationBusy('dev')).toBe(true);
    expect(result.current.isVerificationBusy('staging')).toBe(false);

    const verification = { ...dev.verification!, phase: 'Pending' as const };
    await act(async () => {
      answer.resolve(verification);
      await done;
    });
    expect(result.current.isVerificationBusy('dev')).toBe(false);
    expect(api.reverify).toHaveBeenCalledWith('shop', 'dev');
    expect(reload.updateStage).toHaveBeenCalledWith({ ...dev, verification });
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({ severity: 'success' }),
    );
  });

  it('tracks releasing a hold per stage and warehouse, and says why it failed', async () => {
    const api = mockStagecoachApi({
      releaseAutoPromotionHold: jest.fn().mockRejectedValue(new Error('boom')),
    });
    const { result, reload, alertApi } = renderActions(api);

    let done: Promise<void>;
    act(() => {
      done = result.current.resumeAutoPromotion(dev, 'shop');
    });
    expect(result.current.isResuming('dev', 'shop')).toBe(true);
    expect(result.current.isResuming('dev', 'other')).toBe(false);
    await act(() => done);

    expect(result.current.isResuming('dev', 'shop')).toBe(false);
    expect(reload.updateStage).not.toHaveBeenCalled();
    expect(alertApi.post).toHaveBeenCalledWith({
      message: 'Could not resume auto-promotion of dev: boom',
      severity: 'error',
    });
  });

  it('opens the promote dialog, and closes it once the promotion is queued', () => {
    const { result, reload } = renderActions(mockStagecoachApi());

    act(() => result.current.openPromote(dev));
    expect(result.current.promoteTo).toBe(dev);
    act(() => result.current.promoted(stagingPromotion));
    expect(result.current.promoteTo).toBeUndefined();
    expect(reload.addPromotion).toHaveBeenCalledWith(stagingPromotion);

    act(() => result.current.openVerificationDetails(dev));
    expect(result.current.detailsOf).toBe('dev');
    act(() => result.current.closeVerificationDetails());
    expect(result.current.detailsOf).toBeUndefined();
  });
});
