import { PodPolicySettings, podSpecProblems, podTemplateProblems, withSecureDefaults } from './podPolicy';

const none: PodPolicySettings = { serviceAccounts: [] };
const fields = (spec: unknown, settings = none) => podSpecProblems(spec, settings).map(p => p.path.join('.'));
const c = (securityContext: unknown, extra: Record<string, unknown> = {}) => ({
  containers: [{ name: 'check', image: 'curlimages/curl', securityContext, ...extra }],
});

describe('the job pod policy (restricted Pod Security level)', () => {
  it('accepts a pod that says nothing about security, and one that says what the restricted level asks', () => {
    expect(fields(c(undefined))).toEqual([]);
    expect(
      fields({
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
        volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'tmp', emptyDir: {} }, { name: 's', secret: { secretName: 'y' } }],
        ...c({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, procMount: 'Default' }),
      }),
    ).toEqual([]);
  });

  it('refuses each setting the restricted level refuses, by its field', () => {
    expect(fields({ securityContext: { seccompProfile: { type: 'Unconfined' } } })).toEqual(['securityContext.seccompProfile.type']);
    expect(fields({ securityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }] } })).toEqual(['securityContext.sysctls']);
    expect(fields({ securityContext: { runAsNonRoot: false } })).toEqual(['securityContext.runAsNonRoot']);
    expect(fields({ securityContext: { windowsOptions: { hostProcess: true } } })).toEqual(['securityContext.windowsOptions.hostProcess']);
    expect(fields({ volumes: [{ name: 'n', nfs: { server: 'x', path: '/' } }] })).toEqual(['volumes.0.nfs']);
    expect(fields(c({ allowPrivilegeEscalation: true }))).toEqual(['containers.0.securityContext.allowPrivilegeEscalation']);
    expect(fields(c({ capabilities: { drop: ['NET_RAW'] } }))).toEqual(['containers.0.securityContext.capabilities.drop']);
    expect(fields(c({ procMount: 'Unmasked' }))).toEqual(['containers.0.securityContext.procMount']);
    expect(fields(c({ appArmorProfile: { type: 'Unconfined' } }))).toEqual(['containers.0.securityContext.appArmorProfile.type']);
    expect(fields(c({ seLinuxOptions: { type: 'spc_t', user: 'root' } }))).toEqual([
      'containers.0.securityContext.seLinuxOptions.type',
      'containers.0.securityContext.seLinuxOptions.user',
    ]);
    expect(fields(c(undefined, { ports: [{ containerPort: 80, hostPort: 8080 }] }))).toEqual(['containers.0.ports.0.hostPort']);
    expect(fields({ initContainers: [{ name: 'i', image: 'x', securityContext: { privileged: true } }], containers: [] })).toEqual([
      'initContainers.0.securityContext.privileged',
    ]);
    expect(podTemplateProblems({ metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/check': 'unconfined' } }, spec: {} }, none)).toEqual([
      expect.objectContaining({ path: ['metadata', 'annotations', 'container.apparmor.security.beta.kubernetes.io/check'] }),
    ]);
  });

  it('allows only the service accounts app-config approves, and no token for the default one', () => {
    expect(fields({ serviceAccountName: 'smoke-tests' })).toEqual(['serviceAccountName']);
    expect(fields({ serviceAccountName: 'smoke-tests', automountServiceAccountToken: true }, { serviceAccounts: ['smoke-tests'] })).toEqual([]);
    expect(fields({ serviceAccountName: 'default' })).toEqual([]);
    expect(fields({ automountServiceAccountToken: true })).toEqual(['automountServiceAccountToken']);
    expect(fields({ serviceAccount: 'admin' })).toEqual(['serviceAccount']);
  });

  it('refuses an {{args}} placeholder where the policy must see the value', () => {
    expect(podSpecProblems({ serviceAccountName: '{{args.sa}}' }, none)).toEqual([
      { path: ['serviceAccountName'], message: 'must not be an {{args}} placeholder: the pod policy checks this field when the manifests are applied' },
    ]);
    expect(fields(c({ privileged: '{{args.privileged}}' }))).toEqual(['containers.0.securityContext.privileged']);
  });

  it("fills in the restricted level's settings, keeping what the manifest set", () => {
    const spec = withSecureDefaults({
      securityContext: { runAsUser: 1000, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
      containers: [{ name: 'a', image: 'x', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL', 'NET_RAW'] } } }],
    });
    expect(spec).toEqual({
      automountServiceAccountToken: false,
      securityContext: { runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
      containers: [
        {
          name: 'a',
          image: 'x',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL', 'NET_RAW'] } },
        },
      ],
    });
    expect(withSecureDefaults({ serviceAccountName: 'smoke-tests', containers: [] }).automountServiceAccountToken).toBeUndefined();
  });
});
