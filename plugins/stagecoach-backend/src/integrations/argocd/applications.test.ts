import { appSelectorSchema, authorizeApp, authorizedStages, labelSelectorQuery, matchesSelector } from './applications';

const meta = (annotations?: Record<string, string>) => ({ metadata: { name: 'guestbook', namespace: 'argocd', annotations } });

describe('authorized-stage annotations', () => {
  it('reads both annotations, comma-separated, without duplicates', () => {
    expect(
      authorizedStages(meta({ 'stagecoach.io/authorized-stage': 'shop:dev, shop:qa', 'kargo.akuity.io/authorized-stage': 'shop:qa,shop:prod' })),
    ).toEqual(['shop:dev', 'shop:qa', 'shop:prod']);
  });

  it("authorizes the stage an entry names exactly, in either annotation", () => {
    expect(authorizeApp(meta({ 'stagecoach.io/authorized-stage': 'shop:qa,shop:dev' }), 'shop', 'dev')).toEqual({ authorized: true });
    expect(authorizeApp(meta({ 'kargo.akuity.io/authorized-stage': 'shop:dev' }), 'shop', 'dev')).toEqual({ authorized: true });
  });

  it('says which annotation to add to which app when there is none', () => {
    expect(authorizeApp(meta(), 'shop', 'dev', 'prod')).toEqual({
      authorized: false,
      reason:
        'Argo CD Application "guestbook" in namespace "argocd" on cluster "prod" does not authorize stage shop:dev. ' +
        'To let this stage drive it, add the annotation stagecoach.io/authorized-stage: "shop:dev" to the Application ' +
        '(in Git, where it is defined, or: kubectl annotate application --overwrite -n argocd guestbook stagecoach.io/authorized-stage=shop:dev).',
    });
  });

  it('refuses globs, saying why, and keeps the valid entries in the suggested value', () => {
    const r = authorizeApp(meta({ 'stagecoach.io/authorized-stage': 'shop:*,shop:qa' }), 'shop', 'dev');
    expect(r).toMatchObject({ authorized: false });
    const reason = (r as { reason: string }).reason;
    expect(reason).toContain('(it authorizes shop:qa)');
    expect(reason).toContain('Its entry "shop:*" is not accepted: each must be <project>:<stage>, with no globs (*).');
    expect(reason).toContain('stagecoach.io/authorized-stage: "shop:qa,shop:dev"');
    expect(authorizeApp(meta({ 'stagecoach.io/authorized-stage': '*:*' }), 'shop', 'dev').authorized).toBe(false);
  });
});

describe('app selectors', () => {
  const selector = appSelectorSchema.parse({
    matchLabels: { team: 'shop' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['dev', 'qa'] },
      { key: 'tier', operator: 'NotIn', values: ['db'] },
      { key: 'stagecoach', operator: 'Exists' },
      { key: 'frozen', operator: 'DoesNotExist' },
    ],
  });

  it('matches labels as Kubernetes does, every criterion ANDed', () => {
    expect(matchesSelector({ team: 'shop', env: 'dev', stagecoach: '' }, selector)).toBe(true);
    expect(matchesSelector({ team: 'shop', env: 'prod', stagecoach: '' }, selector)).toBe(false);
    expect(matchesSelector({ team: 'shop', env: 'dev', tier: 'db', stagecoach: '' }, selector)).toBe(false);
    expect(matchesSelector({ team: 'shop', env: 'dev' }, selector)).toBe(false);
    expect(matchesSelector({ team: 'shop', env: 'dev', stagecoach: '', frozen: 'yes' }, selector)).toBe(false);
    expect(matchesSelector(undefined, selector)).toBe(false);
  });

  it("writes the API's labelSelector query", () => {
    expect(labelSelectorQuery(selector)).toBe('team=shop,env in (dev,qa),tier notin (db),stagecoach,!frozen');
  });

  it('names what is wrong in a selector', () => {
    const issues = (v: unknown) => {
      const r = appSelectorSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map(i => ({ path: i.path, message: i.message }));
    };
    expect(issues({})).toEqual([{ path: [], message: 'set matchLabels or matchExpressions (a selector needs at least one criterion)' }]);
    expect(issues({ matchExpressions: [{ key: 'env', operator: 'In' }] })).toEqual([
      { path: ['matchExpressions', 0, 'values'], message: 'In needs at least one value' },
    ]);
    expect(issues({ matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] })).toEqual([
      { path: ['matchExpressions', 0, 'values'], message: 'Exists takes no values' },
    ]);
    expect(issues({ matchExpressions: [{ key: 'env', operator: 'Is' }] })).toEqual([
      { path: ['matchExpressions', 0, 'operator'], message: 'must be one of In, NotIn, Exists, DoesNotExist' },
    ]);
  });
});
