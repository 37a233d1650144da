import type { Knex } from 'knex';
import type { ProjectCredentials } from '../credentials/ProjectCredentials';
import { DataFunctions, dataFunctions } from '../expressions/dataFunctions';
import { ClusterStore } from '../store/ClusterStore';
import { ConfigMapStore } from '../store/ConfigMapStore';

/**
 * Kargo's `configMap()`, `secret()`, `sharedConfigMap()` and `sharedSecret()` over what a
 * project's manifests and the cluster scope hold: ConfigMaps read when the functions are
 * made (once per promotion run, or per verification), Secrets opened only when called.
 */
export class ProjectData {
  constructor(private readonly o: { knex: Knex; credentials: ProjectCredentials }) {}

  /** For a promotion's steps: all four functions. */
  async forPromotion(project: string): Promise<DataFunctions> {
    const db = this.o.knex;
    const cluster = new ClusterStore(db);
    const [configMaps, sharedConfigMaps, secrets, shared] = await Promise.all([
      new ConfigMapStore(db).all(project),
      cluster.configMaps(),
      this.o.credentials.genericSource(project),
      cluster.secrets(),
    ]);
    return dataFunctions({ configMaps, sharedConfigMaps, secrets, sharedSecrets: this.o.credentials.sharedSource(shared) });
  }

  /**
   * For a stage's verification arguments: the ConfigMaps only. What the arguments evaluate to
   * is stored with the verification and shown by the API, so no Secret may reach them;
   * credentials of web and prometheus checks are app-config's (stagecoach.verification.credentials).
   */
  async forVerification(project: string, tx?: Knex.Transaction) {
    const db = tx ?? this.o.knex;
    const [configMaps, sharedConfigMaps] = await Promise.all([new ConfigMapStore(db).all(project), new ClusterStore(db).configMaps()]);
    return dataFunctions({
      configMaps,
      sharedConfigMaps,
      secretsUnavailable:
        'is not available in verification arguments: what they evaluate to is stored with the verification and shown to its readers; ' +
        "give a check's credentials in app-config, stagecoach.verification.credentials",
    }).functions;
  }
}
