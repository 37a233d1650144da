import { ConfigReader } from '@backstage/config';
import { jobNamespace, readJobSettings } from './jobSettings';

describe('where job metrics may run (stagecoach.verification.jobs)', () => {
  it('reads app-config', () => {
    const config = new ConfigReader({
      stagecoach: {
        verification: {
          jobs: {
            namespace: 'verify-{project}',
            cluster: 'workloads',
            namespaces: [{ project: 'team-a', namespaces: ['team-a-verify'] }],
            serviceAccounts: [{ project: 'team-a', names: ['smoke-tests'] }],
            protectedNamespaces: ['vault'],
          },
        },
      },
    });
    expect(readJobSettings(config)).toEqual({
      namespace: 'verify-{project}',
      cluster: 'workloads',
      namespaces: [{ project: 'team-a', namespaces: ['team-a-verify'] }],
      serviceAccounts: [{ project: 'team-a', names: ['smoke-tests'] }],
      protectedNamespaces: ['vault'],
    });
    expect(readJobSettings(new ConfigReader({}))).toEqual({});
  });

  it("runs in the project's namespace by default, never in a protected one its name makes", () => {
    expect(jobNamespace({}, 'shop')).toEqual({ namespace: 'shop' });
    expect(jobNamespace({ namespace: 'verify-{project}' }, 'shop')).toEqual({ namespace: 'verify-shop' });
    for (const project of ['kube-system', 'kube-public', 'default', 'argocd', 'vault']) {
      expect(jobNamespace({ protectedNamespaces: ['argocd', 'vault'] }, project)).toEqual({
        problem: expect.stringContaining(`would run in namespace "${project}" (stagecoach.verification.jobs.namespace "{project}"), a protected namespace`),
      });
    }
    expect(jobNamespace({}, 'Shop_1')).toEqual({ problem: expect.stringContaining('is not a Kubernetes namespace name') });
    // a namespace app-config names outright, or lists for the project, is the operator's choice
    expect(jobNamespace({ namespace: 'default' }, 'shop')).toEqual({ namespace: 'default' });
    expect(jobNamespace({ namespaces: [{ project: 'kube-system', namespaces: ['kube-system'] }] }, 'kube-system')).toEqual({ namespace: 'kube-system' });
  });

  it('lets a metric pick only among the namespaces listed for its project', () => {
    const settings = { namespaces: [{ project: 'team-a', namespaces: ['team-a-verify', 'team-a-load'] }] };
    expect(jobNamespace(settings, 'team-a')).toEqual({ namespace: 'team-a-verify' });
    expect(jobNamespace(settings, 'team-a', 'team-a-load')).toEqual({ namespace: 'team-a-load' });
    expect(jobNamespace(settings, 'team-a', 'kube-system')).toEqual({ problem: expect.stringContaining('namespace "kube-system" is not one that project "team-a"') });
    expect(jobNamespace(settings, 'team-b', 'team-a-verify')).toEqual({ problem: expect.stringContaining('project "team-b"\'s jobs may run in (stagecoach.verification.jobs): team-b') });
  });
});
