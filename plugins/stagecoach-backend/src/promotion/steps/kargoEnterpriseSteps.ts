/**
 * Steps that only Kargo Enterprise (the Akuity Platform) runs. A manifest that uses one is
 * refused saying so, and what to do instead, rather than with a bare "unknown step".
 */
const HINTS: Record<string, string> = {
  'send-message': 'an http step can post to a chat or mail webhook (Slack incoming webhooks, for example)',
  'wait-for-approval':
    'leave auto-promotion off for the stage (a ProjectConfig promotionPolicies entry) so that a person promotes it, and use permissions to say who may',
  'get-user-input': 'pass the values as vars of the stage, or read them from a file of a repository the promotion clones',
  'gha-dispatch-workflow': "an http step can call GitHub's workflow_dispatch API",
  'gha-wait-for-workflow': "an http step with successExpression and failureExpression can poll GitHub's workflow runs API",
  'jira': "an http step can call Jira's REST API",
  'record-audit-event': "Backstage's auditor already records each promotion asked for (promotion-create)",
};

const ENTERPRISE_STEPS = new Set([
  'get-user-input',
  'gh-create-issue',
  'gh-issue-add-comment',
  'gh-issue-delete-comment',
  'gh-issue-update-comment',
  'gh-search-issues',
  'gh-update-issue',
  'gh-wait-for-issue-state',
  'gha-dispatch-workflow',
  'gha-wait-for-workflow',
  'hcl-update',
  'jfrog-evidence',
  'jira',
  'record-audit-event',
  'send-message',
  'snow-create',
  'snow-delete',
  'snow-query-for-records',
  'snow-update',
  'snow-wait-for-condition',
  'tf-apply',
  'tf-output',
  'tf-plan',
  'wait-for-approval',
]);

/** Why a Kargo Enterprise step is refused and what to do instead; undefined for any other name. */
export function kargoEnterpriseStepProblem(uses: string): string | undefined {
  if (!ENTERPRISE_STEPS.has(uses)) return undefined;
  const hint = HINTS[uses] ?? 'an http step can often call the same service';
  return (
    `"${uses}" is a Kargo Enterprise step, which Stagecoach does not have: ${hint}; ` +
    'or a backend module can add a step of that name (stagecoachPromotionStepsExtensionPoint, see docs/extending.md)'
  );
}
