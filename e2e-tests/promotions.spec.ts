import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, Locator, Page, test } from '@playwright/test';
import {
  API,
  ARTIFACTS_DIR,
  authHeaders,
  FreightSummary,
  git,
  GIT_URL,
  openSignedIn,
  waitForCatalogEntity,
  waitForFreight,
  withClone,
} from './support';

const TAB_URL = '/catalog/default/component/demo-app/stagecoach';
const RELEASE = 'v1.2.0';

/** Promotes through the dialog of the Promotions tab and waits for the promotion to succeed. */
async function promoteThroughDialog(
  page: Page,
  stage: string,
  freight: FreightSummary,
) {
  const container = page.getByTestId(`stage-${stage}`);
  const dialog = page
    .getByRole('dialog')
    .filter({ hasText: `Promote to ${stage}` });
  const firstChoice = dialog.getByRole('radio').first();

  // Discovery runs on a schedule and the tab may have loaded before it: reopen the dialog
  // (reloading the tab once in a while) until it lists the freight.
  let attempt = 0;
  await expect(async () => {
    if (attempt++ % 3 === 2) {
      await page.reload();
      await expect(container).toBeVisible();
    }
    if (!(await dialog.isVisible())) {
      await page
        .getByRole('button', { name: `Promote to ${stage}`, exact: true })
        .click();
    }
    await expect(dialog).toBeVisible({ timeout: 5_000 });
    try {
      await expect(firstChoice).toBeVisible({ timeout: 5_000 });
    } catch (e) {
      await page.keyboard.press('Escape');
      await expect(dialog).toBeHidden();
      throw e;
    }
  }).toPass({ timeout: 90_000, intervals: [1_000, 2_000, 5_000] });

  // the first choice is the newest freight, named by its alias
  await expect(firstChoice).toHaveAccessibleName(new RegExp(freight.alias));
  await firstChoice.check();
  await dialog.getByRole('button', { name: 'Promote', exact: true }).click();
  await expect(dialog).toBeHidden();

  await expect(container).toContainText('Succeeded', { timeout: 60_000 });
  await expect(container).toContainText(RELEASE);
}

/** Opens a stage's promote dialog and waits until it lists freight. */
async function openPromoteDialog(page: Page, stage: string): Promise<Locator> {
  await page
    .getByRole('button', { name: `Promote to ${stage}`, exact: true })
    .click();
  const dialog = page
    .getByRole('dialog')
    .filter({ hasText: `Promote to ${stage}` });
  await expect(dialog.getByRole('radio').first()).toBeVisible();
  return dialog;
}

/** One freight's row in a promote dialog, found by the version it carries (`@v1.2.0`). */
function freightOption(dialog: Locator, version: string): Locator {
  return dialog.getByTestId(/^freight-option-/).filter({ hasText: version });
}

/** Whether `a` comes before `b` in the page. */
async function isBefore(a: Locator, b: Locator): Promise<boolean> {
  const handle = await b.elementHandle();
  return a.evaluate(
    (first, second) =>
      !!second &&
      (first.compareDocumentPosition(second) &
        Node.DOCUMENT_POSITION_FOLLOWING) !==
        0,
    handle,
  );
}

test('promote the demo release to dev, then staging, from the Promotions tab', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(300_000);

  const freight =
    await test.step('the backend has the demo entity and discovered the release', async () => {
      await waitForCatalogEntity(request, 'component:default/demo-app');
      // the guest signs in as this catalog user (member of guests, which owns demo-app)
      await waitForCatalogEntity(request, 'user:default/guest');
      return waitForFreight(request, 'demo', RELEASE);
    });

  await test.step('open the Promotions tab of demo-app, signed in as guest', async () => {
    await openSignedIn(page, TAB_URL);
    await expect(page.getByRole('tab', { name: 'Promotions' })).toHaveAttribute(
      'aria-selected',
      'true',
    );
  });

  await test.step('the stages are dev, staging, then prod', async () => {
    const dev = page.getByTestId('stage-dev');
    const staging = page.getByTestId('stage-staging');
    const prod = page.getByTestId('stage-prod');
    await expect(dev).toBeVisible({ timeout: 30_000 });
    await expect(staging).toBeVisible();
    await expect(prod).toBeVisible();
    expect(await isBefore(dev, staging)).toBe(true);
    expect(await isBefore(staging, prod)).toBe(true);
  });

  await test.step("dev's card links to what its verification checks (the demo ProjectConfig's stageLinks); the others have no links", async () => {
    const link = page
      .getByTestId('stage-dev')
      .getByRole('list', { name: 'Links of stage dev' })
      .getByRole('link', { name: /dev health check/ });
    await expect(link).toHaveAttribute(
      'href',
      'http://localhost:7007/.backstage/health/v1/liveness',
    );
    await expect(link).toHaveAttribute('target', '_blank');
    await expect(link).toHaveAttribute('rel', /\bnoopener\b/);
    await expect(
      page.getByTestId('stage-staging').getByRole('list', {
        name: 'Links of stage staging',
      }),
    ).toHaveCount(0);
  });

  await test.step('the demo project has no credentials: the Credentials card says how to add one', async () => {
    await expect(
      page.getByText(/Project demo has no credentials of its own/),
    ).toContainText('kargo.akuity.io/cred-type');
  });

  await test.step('the guest may not promote to prod (labelled env: prod): the button is disabled and says why', async () => {
    const reason =
      'Your permissions do not allow promoting to prod (stagecoach.promotion.create). Ask the owners of project demo or a Stagecoach admin.';
    const promoteProd = page.getByRole('button', {
      name: 'Promote to prod',
      exact: true,
    });
    // the example policy denies it (prod needs the platform-team group)
    await expect(promoteProd).toHaveAccessibleDescription(reason);
    await expect(promoteProd).toBeDisabled();
    // the guest owns demo-app through the guests group: dev and staging are allowed
    await expect(
      page.getByRole('button', { name: 'Promote to dev', exact: true }),
    ).toBeEnabled();
    await expect(
      page.getByRole('button', { name: 'Promote to staging', exact: true }),
    ).toBeEnabled();
    // hovering the button shows the reason; clicking it opens nothing
    await promoteProd.hover();
    await expect(page.getByRole('tooltip')).toHaveText(reason);
    // (force: Playwright would otherwise wait for the button to be enabled)
    await promoteProd.click({ force: true });
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await page.mouse.move(0, 0);
    await expect(page.getByRole('tooltip')).toBeHidden();
  });

  await test.step(`staging does not take ${freight.alias} before dev has it, and says why`, async () => {
    const dialog = await openPromoteDialog(page, 'staging');
    const option = freightOption(dialog, `@${RELEASE}`);
    await expect(option.getByRole('radio')).toBeDisabled();
    await expect(option).toContainText('Not available: not verified in dev');
    await expect(
      option.getByRole('button', {
        name: `Approve ${freight.alias} for staging`,
      }),
    ).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
  });

  await test.step(`promote ${freight.alias} (${RELEASE}) to dev, where its web check verifies it`, async () => {
    await promoteThroughDialog(page, 'dev', freight);
    const verification = page.getByTestId('stage-dev').getByTestId('verification-summary');
    await expect(verification).toContainText(new RegExp(`Successful\\s*of ${freight.alias}`), { timeout: 60_000 });
    await expect(verification).toContainText('backend-up');
  });

  await test.step(`promote ${freight.alias} (${RELEASE}) to staging`, async () => {
    await promoteThroughDialog(page, 'staging', freight);
    // dev keeps its freight
    await expect(page.getByTestId('stage-dev')).toContainText(RELEASE);
  });

  await test.step(`the Overview's Stagecoach card shows ${freight.alias} (${RELEASE}) in dev and links back to the tab`, async () => {
    await page.getByRole('tab', { name: 'Overview' }).click();
    const card = page.getByRole('table', { name: 'Stages of demo' });
    const dev = card.getByTestId('overview-stage-dev');
    await expect(dev).toContainText(freight.alias, { timeout: 30_000 });
    await expect(dev.getByLabel('Versions in dev')).toContainText(RELEASE);
    await expect(dev).toContainText('Succeeded');
    await fs.mkdir(ARTIFACTS_DIR, { recursive: true });
    const toTab = page.getByRole('link', { name: /Open the Promotions tab/ });
    // the innermost element holding both the table and the link: the card
    const body = await page
      .locator('div')
      .filter({ has: card })
      .filter({ has: toTab })
      .last()
      .screenshot({ path: path.join(ARTIFACTS_DIR, 'overview-card.png') });
    await testInfo.attach('overview-card', { body, contentType: 'image/png' });
    await toTab.click();
    await expect(page).toHaveURL(TAB_URL);
    await expect(page.getByTestId('stage-dev')).toBeVisible();
  });

  await test.step('the GitOps repository has the release in both environments, comments kept', async () => {
    await withClone('gitops', async dir => {
      for (const env of ['dev', 'staging']) {
        const values = await fs.readFile(
          path.join(dir, `env/${env}/values.yaml`),
          'utf8',
        );
        expect(values, `env/${env}/values.yaml`).toContain(`tag: ${RELEASE}`);
        expect(values, `env/${env}/values.yaml`).not.toContain('tag: v0.9.0');
        expect(values, `env/${env}/values.yaml`).toMatch(
          new RegExp(
            `^# Values for the ${env} environment\\. Stagecoach updates image\\.tag on promotion\\.$`,
            'm',
          ),
        );
        expect(values).toContain('repository: demo/app');
        // the seed commit, then the promotion's
        const commits = await git(
          dir,
          'log',
          '--format=%H',
          'main',
          '--',
          `env/${env}/values.yaml`,
        );
        expect(
          commits.split('\n').length,
          `commits changing env/${env}/values.yaml`,
        ).toBeGreaterThanOrEqual(2);
      }
      // staging was promoted last
      expect(await git(dir, 'show', '--name-only', '--format=', 'main')).toBe(
        'env/staging/values.yaml',
      );
    });
  });

  await test.step('approve freight of an older release for staging from the dialog', async () => {
    // freight by hand from the discovered v1.1.0 (discovery makes freight of the newest only)
    const res = await request.post(`${API}/projects/demo/freight`, {
      headers: authHeaders,
      data: {
        origin: { kind: 'Warehouse', name: 'app' },
        commits: [{ repoURL: `${GIT_URL}/app.git`, tag: 'v1.1.0' }],
      },
    });
    expect(res.status(), await res.text()).toBe(201);
    const older: FreightSummary = await res.json();

    await page.reload();
    const dialog = await openPromoteDialog(page, 'staging');
    const option = freightOption(dialog, '@v1.1.0');
    await expect(option.getByRole('radio')).toBeDisabled();
    await expect(option).toContainText('Not available: not verified in dev');
    await option
      .getByRole('button', { name: `Approve ${older.alias} for staging` })
      .click();
    await expect(option.getByRole('radio')).toBeEnabled();
    await expect(option.getByRole('radio')).toBeChecked();
    await expect(option).toContainText('approved for staging');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();

    await expect(page.getByTestId(`freight-${older.alias}`)).toContainText(
      'approved for staging',
    );
    const approved = await request.get(
      `${API}/projects/demo/freight/${older.id}`,
      { headers: authHeaders },
    );
    expect((await approved.json()).approvedFor).toEqual(['staging']);
  });

  await test.step('screenshot of the Promotions tab', async () => {
    await fs.mkdir(ARTIFACTS_DIR, { recursive: true });
    const file = path.join(ARTIFACTS_DIR, 'promotions-tab.png');
    const body = await page.screenshot({ path: file, fullPage: true });
    await testInfo.attach('promotions-tab', { body, contentType: 'image/png' });
  });
});
