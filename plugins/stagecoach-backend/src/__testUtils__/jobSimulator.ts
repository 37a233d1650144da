import { KubeApiServer, KubeType, Obj, randomSuffix, WriteEvent } from './kubeApi';

/**
 * The Job controller and kubelet, for the loopback Kubernetes API: when a client creates a
 * Job, a Pod `<job>-<5 chars>` appears (labels `job-name`, `controller-uid`, owned by the Job)
 * and the Job becomes active; the test's script decides how it ends and with what log.
 *
 *   const jobs = simulateJobs(api, job => ({ outcome: 'fail', logs: 'boom\n' }));
 *   ... create a Job through the client ...
 *   jobs.finish('verify-1');            // manual (the default): nothing happens until then
 *
 * A script may also say `finish: 'immediately'` (done by the time the create call returns)
 * or `finish: { afterMs }` (a real timer: only for tests that watch). Manual stepping lets a
 * test look at a running job, then end it, without sleeping.
 */

const JOBS: KubeType = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' };
const PODS: KubeType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };

export interface JobScript {
  outcome: 'succeed' | 'fail';
  /** The pod's log (all containers', unless `containerLogs` gives them one by one). */
  logs?: string;
  containerLogs?: Record<string, string>;
  /** The Failed condition's message (default: the Job controller's backoff-limit message). */
  message?: string;
  /** When it ends: 'manual' (default; call `finish`), 'immediately', or after a delay. */
  finish?: 'manual' | 'immediately' | { afterMs: number };
}

export interface SimulatedJob {
  namespace: string;
  name: string;
  pod: string;
  script: JobScript;
  state: 'running' | 'succeeded' | 'failed' | 'deleted';
}

export interface JobSimulator {
  /** Every job seen, in creation order. */
  jobs(): SimulatedJob[];
  /** The job by name (any namespace when not given). */
  job(name: string, namespace?: string): SimulatedJob | undefined;
  /** Ends a running job as its script says, or with `outcome` given here. */
  finish(name: string, outcome?: JobScript['outcome'], namespace?: string): void;
  stop(): void;
}

const timestamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function simulateJobs(
  api: KubeApiServer,
  script: (job: Obj) => JobScript = () => ({ outcome: 'succeed' }),
): JobSimulator {
  const seen: SimulatedJob[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const containersOf = (job: Obj): string[] =>
    (job.spec?.template?.spec?.containers ?? []).map((c: { name: string }) => c.name);

  const end = (sim: SimulatedJob, outcome = sim.script.outcome) => {
    if (sim.state !== 'running') return;
    if (!api.get(JOBS, sim.namespace, sim.name)) {
      sim.state = 'deleted';
      return;
    }
    const { script: s } = sim;
    const containers = containersOf(api.get(JOBS, sim.namespace, sim.name)!);
    if (s.containerLogs) {
      for (const [container, text] of Object.entries(s.containerLogs)) api.setPodLog(sim.namespace, sim.pod, text, container);
    } else if (s.logs !== undefined) {
      api.setPodLog(sim.namespace, sim.pod, s.logs);
    }
    const ok = outcome === 'succeed';
    const at = timestamp();
    if (api.get(PODS, sim.namespace, sim.pod)) {
      api.update(PODS, sim.namespace, sim.pod, p => {
        p.status = {
          phase: ok ? 'Succeeded' : 'Failed',
          containerStatuses: containers.map(c => ({
            name: c,
            state: { terminated: { exitCode: ok ? 0 : 1, reason: ok ? 'Completed' : 'Error', finishedAt: at } },
          })),
        };
      });
    }
    api.update(JOBS, sim.namespace, sim.name, j => {
      // Since Kubernetes 1.31 the controller first adds SuccessCriteriaMet / FailureTarget,
      // then Complete / Failed once the pods are gone: a reader must wait for the latter.
      const message = s.message ?? 'Job has reached the specified backoff limit';
      j.status = ok
        ? {
            succeeded: 1,
            startTime: j.status?.startTime,
            completionTime: at,
            conditions: [
              { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastTransitionTime: at },
              { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastTransitionTime: at },
            ],
          }
        : {
            failed: 1,
            startTime: j.status?.startTime,
            conditions: [
              { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message, lastTransitionTime: at },
              { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message, lastTransitionTime: at },
            ],
          };
    });
    sim.state = ok ? 'succeeded' : 'failed';
  };

  const start = (job: Obj) => {
    const { name, namespace, uid } = job.metadata;
    const s = script(job);
    const podName = `${name}-${randomSuffix()}`;
    const template = job.spec?.template ?? {};
    api.put(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        labels: {
          ...(template.metadata?.labels ?? {}),
          'job-name': name,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': uid,
          'batch.kubernetes.io/controller-uid': uid,
        },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: template.spec ?? {},
      status: { phase: 'Running', startTime: timestamp() },
    });
    api.update(JOBS, namespace, name, j => {
      j.status = { active: 1, ready: 1, startTime: timestamp() };
    });
    const sim: SimulatedJob = { namespace, name, pod: podName, script: s, state: 'running' };
    seen.push(sim);
    if (s.finish === 'immediately') end(sim);
    else if (s.finish && typeof s.finish === 'object') {
      const t = setTimeout(() => {
        timers.delete(t);
        end(sim);
      }, s.finish.afterMs);
      timers.add(t);
    }
  };

  const unsubscribe = api.onWrite((e: WriteEvent) => {
    if (e.type.group !== 'batch' || e.type.plural !== 'jobs') return;
    if (e.verb === 'create') start(e.object);
    if (e.verb === 'delete') {
      const sim = seen.find(j => j.name === e.name && j.namespace === e.namespace && j.state === 'running');
      if (sim) sim.state = 'deleted';
    }
  });

  const find = (name: string, namespace?: string) =>
    [...seen].reverse().find(j => j.name === name && (!namespace || j.namespace === namespace));

  return {
    jobs: () => [...seen],
    job: find,
    finish(name, outcome, namespace) {
      const sim = find(name, namespace);
      if (!sim) throw new Error(`jobSimulator: no job "${name}" was created (jobs: ${seen.map(j => j.name).join(', ') || 'none'})`);
      if (sim.state !== 'running') throw new Error(`jobSimulator: job "${name}" is ${sim.state}, not running`);
      end(sim, outcome);
    },
    stop() {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
