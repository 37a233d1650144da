import {
  permissionApiRef,
  type PermissionApi,
} from '@backstage/plugin-permission-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import {
  stagecoachFreightUpdatePermission,
  stagecoachPromotePermission,
} from '@stagecoach/plugin-stagecoach-common';
import { screen, waitFor } from '@testing-library/react';
import userEvent, {
  PointerEventsCheckLevel,
} from '@testing-library/user-event';
import { PermittedButton } from './PermittedButton';

/** AuthorizeResult.ALLOW | AuthorizeResult.DENY, without importing permission-common here. */
type Decision = Exclude<
  NonNullable<Parameters<typeof mockApis.permission>[0]>['authorize'],
  Function | undefined
>;
const ALLOW = 'ALLOW' as Decision;
const DENY = 'DENY' as Decision;

// usePermission keeps its answers (SWR) for the whole test file, by permission and resource
// ref: each test here asks about a project of its own.

async function renderButton(
  permissionApi: PermissionApi,
  props: { project: string; stage?: string; onClick?: () => void },
  permission:
    | typeof stagecoachPromotePermission
    | typeof stagecoachFreightUpdatePermission = stagecoachPromotePermission,
) {
  await renderInTestApp(
    <TestApiProvider apis={[[permissionApiRef, permissionApi]]}>
      <PermittedButton
        permission={permission}
        project={props.project}
        stage={props.stage}
        activity={`promoting to ${props.stage}`}
        aria-label={`Promote to ${props.stage}`}
        onClick={props.onClick}
      >
        Promote
      </PermittedButton>
    </TestApiProvider>,
  );
  return screen.getByRole('button', { name: `Promote to ${props.stage}` });
}

/** The button, found again each time: it is rendered anew once the permission is answered. */
function promoteButton(stage: string) {
  return screen.getByRole('button', { name: `Promote to ${stage}` });
}

/** Clicks even where pointer-events would stop a real pointer, to show the button ignores it. */
const clickThrough = (element: Element) =>
  userEvent
    .setup({ pointerEventsCheck: PointerEventsCheckLevel.Never })
    .click(element);

describe('PermittedButton', () => {
  it('is enabled and acts when the policy allows, asking about the stage as <project>:<stage>', async () => {
    const asked: Array<{ permission: string; resourceRef?: string }> = [];
    const onClick = jest.fn();
    const button = await renderButton(
      mockApis.permission({
        authorize: req => {
          asked.push({
            permission: req.permission.name,
            resourceRef: req.resourceRef,
          });
          return ALLOW;
        },
      }),
      { project: 'allowed', stage: 'prod', onClick },
    );

    await waitFor(() => expect(button).toBeEnabled());
    expect(asked).toEqual([
      {
        permission: 'stagecoach.promotion.create',
        resourceRef: 'allowed:prod',
      },
    ]);
    expect(button).not.toHaveAccessibleDescription();
    await clickThrough(button);
    expect(onClick).toHaveBeenCalledTimes(1);
  });

  it('asks about the project by its name for a project permission', async () => {
    const asked: Array<string | undefined> = [];
    await renderButton(
      mockApis.permission({
        authorize: req => {
          asked.push(req.resourceRef);
          return ALLOW;
        },
      }),
      { project: 'by-name', stage: 'dev' },
      stagecoachFreightUpdatePermission,
    );
    await waitFor(() => expect(asked).toEqual(['by-name']));
  });

  it('is disabled and says why, on hover and to screen readers, when the policy denies', async () => {
    const onClick = jest.fn();
    await renderButton(mockApis.permission({ authorize: DENY }), {
      project: 'denied',
      stage: 'prod',
      onClick,
    });
    const reason =
      'Your permissions do not allow promoting to prod (stagecoach.promotion.create). Ask the owners of project denied or a Stagecoach admin.';

    await waitFor(() =>
      expect(promoteButton('prod')).toHaveAccessibleDescription(reason),
    );
    const button = promoteButton('prod');
    expect(button).toHaveAttribute('aria-disabled', 'true');
    await userEvent.hover(button);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(reason);
    // a click the browser would not deliver (pointer-events) is tried anyway: nothing happens
    await clickThrough(button);
    await userEvent.keyboard('{Enter}');
    expect(onClick).not.toHaveBeenCalled();
  });

  it('stays in the tab order when denied, so that keyboard users reach it and its reason', async () => {
    await renderButton(mockApis.permission({ authorize: DENY }), {
      project: 'keyboard',
      stage: 'prod',
    });
    await waitFor(() =>
      expect(promoteButton('prod')).toHaveAttribute('aria-disabled', 'true'),
    );

    await userEvent.tab();
    expect(promoteButton('prod')).toHaveFocus();
    expect(promoteButton('prod')).toHaveAccessibleDescription(
      /do not allow promoting to prod/,
    );
  });

  it('is disabled without a reason while the permission is being checked', async () => {
    const onClick = jest.fn();
    const button = await renderButton(
      { authorize: () => new Promise(() => {}) },
      { project: 'pending', stage: 'prod', onClick },
    );
    expect(button).toBeDisabled();
    expect(button).not.toHaveAccessibleDescription();
    await clickThrough(button);
    expect(onClick).not.toHaveBeenCalled();
    expect(screen.queryByRole('tooltip')).not.toBeInTheDocument();
  });

  it('is disabled and says so when the permission could not be checked', async () => {
    await renderButton(
      {
        authorize: async () => {
          throw new Error('permission backend unreachable');
        },
      },
      { project: 'unchecked', stage: 'prod' },
    );
    await waitFor(() =>
      expect(promoteButton('prod')).toHaveAccessibleDescription(
        'Could not check whether your permissions allow promoting to prod: permission backend unreachable',
      ),
    );
    expect(promoteButton('prod')).toHaveAttribute('aria-disabled', 'true');
  });
});
