/**
 * The pod policy of `job` metrics: a job pod may do only what Kubernetes' "restricted" Pod
 * Security Standard allows (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
 * and use only a service account the config approves for its project.
 *
 * Absent settings get the restricted level's values (`withSecureDefaults`): the pod runs
 * with `runAsNonRoot: true` and the RuntimeDefault seccomp profile, each container with
 * `allowPrivilegeEscalation: false` and every capability dropped, and no service account
 * token unless an approved service account is named. A value written into the manifest that
 * the restricted level refuses is refused (`podSpecProblems`), naming its field: the check
 * runs when the manifests are applied and again when the job is created.
 */

export interface PodPolicyProblem {
  /** The field, from the pod spec: `containers[0].securityContext.privileged`. */
  path: Array<string | number>;
  message: string;
}

/** Volume types the restricted level allows (everything else, hostPath first, is refused). */
export const ALLOWED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
] as const;

/** The one capability a container may add. */
const ADDABLE_CAPABILITY = 'NET_BIND_SERVICE';

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** SELinux types the baseline level allows. */
const SELINUX_TYPES = ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

const RESTRICTED = '(restricted Pod Security level)';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const PLACEHOLDER = /\{\{[^{}]*\}\}/;

/** What the policy needs from config for one project. */
export interface PodPolicySettings {
  /** Service accounts job pods of this project may name, besides `default` (which gets no token). */
  serviceAccounts: readonly string[];
}

/**
 * Every field of a pod spec (a Job's `spec.template.spec`, as written) that the policy
 * refuses. A field that is an `{{args.x}}` placeholder is refused too: the policy must see
 * the value when the manifests are applied.
 */
export function podSpecProblems(podSpec: unknown, settings: PodPolicySettings): PodPolicyProblem[] {
  const problems: PodPolicyProblem[] = [];
  if (!isObj(podSpec)) return problems; // the schema reports a missing or malformed spec
  const refuse = (path: Array<string | number>, message: string) => problems.push({ path, message });
  const placeholder = (path: Array<string | number>, v: unknown) => {
    if (typeof v === 'string' && PLACEHOLDER.test(v)) {
      refuse(path, 'must not be an {{args}} placeholder: the pod policy checks this field when the manifests are applied');
      return true;
    }
    return false;
  };
  const mustNotBeTrue = (path: Array<string | number>, v: unknown, why: string) => {
    if (placeholder(path, v)) return;
    if (v !== undefined && v !== false) refuse(path, `must not be ${JSON.stringify(v)}: ${why} ${RESTRICTED}`);
  };

  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    mustNotBeTrue([key], podSpec[key], 'a job pod may not share the node\'s namespaces');
  }

  // service account and its token
  const sa = podSpec.serviceAccountName ?? podSpec.serviceAccount;
  const saField = podSpec.serviceAccountName !== undefined ? 'serviceAccountName' : 'serviceAccount';
  if (!placeholder([saField], sa)) {
    const approved = sa === undefined || sa === 'default' || (typeof sa === 'string' && settings.serviceAccounts.includes(sa));
    if (!approved) {
      refuse(
        [saField],
        `is "${String(sa)}", which app-config does not approve for this project's job pods ` +
          `(stagecoach.verification.jobs.serviceAccounts${settings.serviceAccounts.length ? `: ${settings.serviceAccounts.join(', ')}` : ' approves none'}); ` +
          'leave it out to run without a service account token',
      );
    } else if ((sa === undefined || sa === 'default') && podSpec.automountServiceAccountToken !== undefined && podSpec.automountServiceAccountToken !== false) {
      refuse(
        ['automountServiceAccountToken'],
        'must not be true for the default service account: name a service account that app-config approves (stagecoach.verification.jobs.serviceAccounts) to give a job pod a token',
      );
    }
  }

  // pod-level security context
  const podSc = podSpec.securityContext;
  if (podSc !== undefined && !isObj(podSc)) refuse(['securityContext'], 'must be an object');
  const psc: Obj = isObj(podSc) ? podSc : {};
  securityContextProblems(['securityContext'], psc, refuse, placeholder, mustNotBeTrue);
  if (psc.sysctls !== undefined && !(Array.isArray(psc.sysctls) && psc.sysctls.length === 0)) {
    refuse(['securityContext', 'sysctls'], `must not be set: a job pod may not change kernel parameters ${RESTRICTED}`);
  }

  // volumes
  if (podSpec.volumes !== undefined) {
    if (!Array.isArray(podSpec.volumes)) refuse(['volumes'], 'must be a list');
    else {
      podSpec.volumes.forEach((v, i) => {
        if (!isObj(v)) return;
        for (const key of Object.keys(v)) {
          if (key === 'name') continue;
          if (!(ALLOWED_VOLUME_TYPES as readonly string[]).includes(key)) {
            refuse(
              ['volumes', i, key],
              `is a volume type job pods may not use: only ${ALLOWED_VOLUME_TYPES.join(', ')} ${RESTRICTED}`,
            );
          }
        }
      });
    }
  }

  // containers
  for (const list of CONTAINER_LISTS) {
    const containers = podSpec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((c, i) => {
      if (!isObj(c)) return;
      const at = [list, i];
      if (Array.isArray(c.ports)) {
        c.ports.forEach((p, j) => {
          if (isObj(p) && p.hostPort !== undefined && p.hostPort !== 0) {
            if (!placeholder([...at, 'ports', j, 'hostPort'], p.hostPort)) {
              refuse([...at, 'ports', j, 'hostPort'], `must not be set: a job pod may not take a port of the node ${RESTRICTED}`);
            }
          }
        });
      }
      const sc = c.securityContext;
      if (sc === undefined) return;
      if (!isObj(sc)) {
        refuse([...at, 'securityContext'], 'must be an object');
        return;
      }
      const scPath = [...at, 'securityContext'];
      mustNotBeTrue([...scPath, 'privileged'], sc.privileged, 'a job container may not be privileged');
      if (!placeholder([...scPath, 'allowPrivilegeEscalation'], sc.allowPrivilegeEscalation) && sc.allowPrivilegeEscalation !== undefined && sc.allowPrivilegeEscalation !== false) {
        refuse([...scPath, 'allowPrivilegeEscalation'], `must be false (or left out, which means false here) ${RESTRICTED}`);
      }
      if (sc.procMount !== undefined && sc.procMount !== 'Default') {
        if (!placeholder([...scPath, 'procMount'], sc.procMount)) refuse([...scPath, 'procMount'], `must be Default or left out ${RESTRICTED}`);
      }
      securityContextProblems(scPath, sc, refuse, placeholder, mustNotBeTrue);
      capabilityProblems([...scPath, 'capabilities'], sc.capabilities, refuse, placeholder);
    });
  }
  return problems;
}

/**
 * What the policy refuses in a pod template (`metadata` and `spec`, a Job's
 * `spec.template`), with paths from the template: the spec (podSpecProblems) and the
 * AppArmor and seccomp annotations older clusters read.
 */
export function podTemplateProblems(template: unknown, settings: PodPolicySettings): PodPolicyProblem[] {
  if (!isObj(template)) return [];
  const problems = podSpecProblems(template.spec, settings).map(p => ({ ...p, path: ['spec', ...p.path] }));
  const annotations = isObj(template.metadata) && isObj(template.metadata.annotations) ? template.metadata.annotations : {};
  for (const [key, value] of Object.entries(annotations)) {
    const path = ['metadata', 'annotations', key];
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/')) {
      if (value !== 'runtime/default' && !(typeof value === 'string' && value.startsWith('localhost/'))) {
        problems.push({ path, message: `must be runtime/default or localhost/<profile>: a job pod may not run unconfined ${RESTRICTED}` });
      }
    } else if (key.startsWith('seccomp.security.alpha.kubernetes.io/') || key.startsWith('container.seccomp.security.alpha.kubernetes.io/')) {
      if (value !== 'runtime/default' && value !== 'docker/default' && !(typeof value === 'string' && value.startsWith('localhost/'))) {
        problems.push({ path, message: `must be runtime/default or localhost/<profile> ${RESTRICTED}` });
      }
    }
  }
  return problems;
}

type Refuse = (path: Array<string | number>, message: string) => void;
type Placeholder = (path: Array<string | number>, v: unknown) => boolean;

/** Fields a pod's and a container's securityContext share. */
function securityContextProblems(
  at: Array<string | number>,
  sc: Obj,
  refuse: Refuse,
  placeholder: Placeholder,
  mustNotBeTrue: (path: Array<string | number>, v: unknown, why: string) => void,
) {
  if (!placeholder([...at, 'runAsNonRoot'], sc.runAsNonRoot) && sc.runAsNonRoot !== undefined && sc.runAsNonRoot !== true) {
    refuse([...at, 'runAsNonRoot'], `must be true (or left out, which means true here) ${RESTRICTED}`);
  }
  if (!placeholder([...at, 'runAsUser'], sc.runAsUser) && sc.runAsUser !== undefined) {
    if (typeof sc.runAsUser !== 'number' || !Number.isInteger(sc.runAsUser) || sc.runAsUser < 1) {
      refuse([...at, 'runAsUser'], `must be a user ID other than 0: a job pod may not run as root ${RESTRICTED}`);
    }
  }
  const seccomp = sc.seccompProfile;
  if (seccomp !== undefined) {
    const type = isObj(seccomp) ? seccomp.type : undefined;
    if (!placeholder([...at, 'seccompProfile', 'type'], type) && type !== 'RuntimeDefault' && type !== 'Localhost') {
      refuse([...at, 'seccompProfile', 'type'], `must be RuntimeDefault or Localhost (or left out, which means RuntimeDefault here) ${RESTRICTED}`);
    }
  }
  const apparmor = sc.appArmorProfile;
  if (apparmor !== undefined) {
    const type = isObj(apparmor) ? apparmor.type : undefined;
    if (!placeholder([...at, 'appArmorProfile', 'type'], type) && type !== 'RuntimeDefault' && type !== 'Localhost') {
      refuse([...at, 'appArmorProfile', 'type'], `must be RuntimeDefault or Localhost: a job pod may not run unconfined ${RESTRICTED}`);
    }
  }
  const se = sc.seLinuxOptions;
  if (se !== undefined && isObj(se)) {
    if (se.type !== undefined && !SELINUX_TYPES.includes(String(se.type))) {
      refuse([...at, 'seLinuxOptions', 'type'], `must be one of ${SELINUX_TYPES.join(', ')} ${RESTRICTED}`);
    }
    for (const key of ['user', 'role'] as const) {
      if (se[key] !== undefined) refuse([...at, 'seLinuxOptions', key], `must not be set ${RESTRICTED}`);
    }
  }
  const windows = sc.windowsOptions;
  if (isObj(windows)) {
    mustNotBeTrue([...at, 'windowsOptions', 'hostProcess'], windows.hostProcess, 'a job pod may not run as a Windows host process');
  }
}

function capabilityProblems(at: Array<string | number>, caps: unknown, refuse: Refuse, placeholder: Placeholder) {
  if (caps === undefined) return;
  if (!isObj(caps)) {
    refuse(at, 'must be an object with add and drop');
    return;
  }
  if (caps.add !== undefined) {
    const add = Array.isArray(caps.add) ? caps.add : [caps.add];
    add.forEach((c, i) => {
      if (placeholder([...at, 'add', i], c)) return;
      if (c !== ADDABLE_CAPABILITY) {
        refuse([...at, 'add', i], `is ${JSON.stringify(c)}: a job container may add only ${ADDABLE_CAPABILITY} ${RESTRICTED}`);
      }
    });
  }
  if (caps.drop !== undefined && !(Array.isArray(caps.drop) && caps.drop.includes('ALL'))) {
    refuse([...at, 'drop'], `must include ALL (or be left out, which means ALL here) ${RESTRICTED}`);
  }
}

/**
 * The pod spec with the restricted level's settings filled in where the manifest left them
 * out. Run it on a spec podSpecProblems accepts.
 */
export function withSecureDefaults(podSpec: Obj): Obj {
  const psc: Obj = isObj(podSpec.securityContext) ? podSpec.securityContext : {};
  const sa = podSpec.serviceAccountName ?? podSpec.serviceAccount;
  const noToken = sa === undefined || sa === 'default';
  const container = (c: unknown) => {
    if (!isObj(c)) return c;
    const sc: Obj = isObj(c.securityContext) ? c.securityContext : {};
    const caps: Obj = isObj(sc.capabilities) ? sc.capabilities : {};
    return {
      ...c,
      securityContext: {
        ...sc,
        allowPrivilegeEscalation: false,
        capabilities: { ...caps, drop: Array.isArray(caps.drop) ? caps.drop : ['ALL'] },
      },
    };
  };
  const out: Obj = {
    ...podSpec,
    ...(noToken ? { automountServiceAccountToken: false } : {}),
    securityContext: {
      ...psc,
      runAsNonRoot: true,
      seccompProfile: isObj(psc.seccompProfile) ? psc.seccompProfile : { type: 'RuntimeDefault' },
    },
  };
  for (const list of CONTAINER_LISTS) {
    if (Array.isArray(podSpec[list])) out[list] = (podSpec[list] as unknown[]).map(container);
  }
  return out;
}
