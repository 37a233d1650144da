import type {
  AuditorService,
  AuthService,
  LoggerService,
  UrlReaderService,
} from '@backstage/backend-plugin-api';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import {
  InputError,
  isError,
  NotFoundError,
  NotModifiedError,
} from '@backstage/errors';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ANNOTATION_PIPELINE_REF,
  ANNOTATION_PROJECT,
} from '@stagecoach/plugin-stagecoach-common';
import type { ProjectService } from '../../app/ProjectService';
import { adoptionRefusal } from '../../app/catalogAdoption';
import { ManifestValidationError } from '../../manifests/ManifestValidationError';
import type {
  CatalogPipeline,
  CatalogPipelineStore,
} from '../../store/CatalogPipelineStore';
import { pipelineLocation } from './pipelineSource';
import { locateProblem, readPipeline } from './readPipeline';

export interface CatalogPipelineSyncOptions {
  catalog: CatalogService;
  auth: AuthService;
  reader: UrlReaderService;
  integrations: Pick<ScmIntegrationRegistry, 'resolveUrl'>;
  projects: Pick<ProjectService, 'applyManifests' | 'get'>;
  /** Projects an administrator hands over to the catalog (`stagecoach.catalogPipelines.adopt`). */
  adopt?: readonly string[];
  store: CatalogPipelineStore;
  logger: LoggerService;
  /** Each apply is audited as the REST API's are (`manifests-apply`), with the entity as actor. */
  auditor?: AuditorService;
  now?: () => Date;
}

/** One entity's claim: the project it names and where its manifests are. */
interface Claim {
  entity: Entity;
  /** `kind:namespace/name`, lower case as the routes compare it. */
  ref: string;
  project: string;
  pipelineRef: string;
}

/** What one pass did for one claim (for logs and tests). */
export type SyncOutcome =
  | 'applied'
  | 'unchanged'
  | 'refused'
  | 'conflict'
  | 'failed';

/**
 * The ETag as a revision the apply history takes: an SCM reader's is the commit; a web server's
 * is shown without its weak prefix and quotes. Printable, no spaces, at most 255 characters.
 */
const asRevision = (etag: string | undefined) => {
  const r = etag
    ?.replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1')
    .replace(/[^\x21-\x7e]/g, '')
    .slice(0, 255);
  return r || undefined;
};

const message = (e: unknown) => (isError(e) ? e.message : String(e));

/**
 * Pipelines from the catalog: every entity with `stagecoach.io/pipeline-ref` and
 * `stagecoach.io/project` has its manifests read (through Backstage's URL reader, with the last
 * ETag so an unchanged source costs nothing) and applied to its project when they change, with
 * prune: the repository is the source of truth. The first entity to claim a project owns it; a
 * refused change is recorded with its problems and the last good pipeline stays; an entity that
 * drops the annotation leaves its project as it is, no longer managed.
 */
export class CatalogPipelineSync {
  private readonly now: () => Date;

  constructor(private readonly o: CatalogPipelineSyncOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** One pass over the catalog (the scheduled task). */
  async syncAll(): Promise<Map<string, SyncOutcome>> {
    const claims = await this.claims();
    const outcomes = new Map<string, SyncOutcome>();
    // a project its owner no longer names: left as it is, marked unmanaged
    for (const owned of await this.o.store.list()) {
      if (
        owned.managed &&
        !claims.some(c => c.ref === owned.entity && c.project === owned.project)
      ) {
        await this.o.store.release(owned.project);
        this.o.logger.info(
          `project ${owned.project} is no longer managed from the catalog: ${owned.entity} no longer names its pipeline; the project stays as it is`,
        );
      }
    }
    for (const claim of claims) {
      try {
        outcomes.set(claim.ref, await this.sync(claim));
      } catch (e) {
        outcomes.set(claim.ref, 'failed');
        this.o.logger.error(
          `could not take the pipeline of ${claim.ref} for project ${
            claim.project
          }: ${message(e)}`,
        );
      }
    }
    return outcomes;
  }

  /** The entities that name a pipeline and a project, in a stable order (the first claim of a project wins). */
  private async claims(): Promise<Claim[]> {
    const credentials = await this.o.auth.getOwnServiceCredentials();
    const { items } = await this.o.catalog.getEntities(
      {
        filter: {
          [`metadata.annotations.${ANNOTATION_PIPELINE_REF}`]:
            CATALOG_FILTER_EXISTS,
        },
        fields: [
          'kind',
          'metadata.name',
          'metadata.namespace',
          'metadata.annotations',
        ],
      },
      { credentials },
    );
    const claims: Claim[] = [];
    for (const entity of items) {
      const annotations = entity.metadata.annotations ?? {};
      const pipelineRef = annotations[ANNOTATION_PIPELINE_REF];
      if (!pipelineRef) continue;
      const ref = stringifyEntityRef(entity).toLocaleLowerCase('en-US');
      const project = annotations[ANNOTATION_PROJECT];
      if (!project) {
        this.o.logger.warn(
          `${ref} has ${ANNOTATION_PIPELINE_REF} but no ${ANNOTATION_PROJECT}: its pipeline has no project to go to`,
        );
        continue;
      }
      claims.push({ entity, ref, project, pipelineRef });
    }
    return claims.sort((a, b) => a.ref.localeCompare(b.ref, 'en-US'));
  }

  private projectExists(project: string): Promise<boolean> {
    return this.o.projects.get(project).then(
      () => true,
      e => {
        if (e instanceof NotFoundError) return false;
        throw e;
      },
    );
  }

  private async sync(claim: Claim): Promise<SyncOutcome> {
    const { project, ref } = claim;
    const owned = await this.o.store.get(project);
    if (owned && owned.managed && owned.entity !== ref) {
      this.o.logger.warn(
        `${ref} names a pipeline for project ${project}, which takes its pipeline from ${owned.entity}: refused`,
      );
      return 'conflict';
    }
    const refusal = adoptionRefusal({
      project,
      entity: ref,
      pipelineRef: claim.pipelineRef,
      owned,
      projectExists: await this.projectExists(project),
      adopt: this.o.adopt ?? [],
    });
    if (refusal) {
      this.o.logger.warn(refusal);
      return 'conflict';
    }
    // this entity's own state, kept while it names the same source; a new owner or source starts afresh
    const mine = owned && owned.entity === ref ? owned : undefined;
    const sameSource = mine?.managed && mine.ref === claim.pipelineRef;
    const base: CatalogPipeline = {
      project,
      entity: ref,
      ref: claim.pipelineRef,
      managed: true,
      ...(mine?.revision ? { revision: mine.revision } : {}),
      ...(mine?.appliedAt ? { appliedAt: mine.appliedAt } : {}),
      ...(sameSource && mine?.etag ? { etag: mine.etag } : {}),
      ...(sameSource && mine?.refusedRevision
        ? { refusedRevision: mine.refusedRevision, problems: mine.problems }
        : {}),
    };
    const checkedAt = this.now().toISOString();

    let read;
    try {
      read = await readPipeline(
        this.o.reader,
        pipelineLocation(claim.entity, this.o.integrations),
        base.etag,
      );
    } catch (e) {
      if (e instanceof NotModifiedError) {
        // unchanged since the last read: nothing to apply (an earlier read error is over)
        await this.o.store.put({ ...base, error: undefined, checkedAt });
        return 'unchanged';
      }
      await this.o.store.put({
        ...base,
        checkedAt,
        error: `could not read the pipeline at ${claim.pipelineRef}: ${message(
          e,
        )}`,
      });
      return 'failed';
    }

    const revision = asRevision(read.etag);
    const audit = await this.o.auditor?.createEvent({
      eventId: 'manifests-apply',
      severityLevel: 'medium',
      meta: {
        project,
        actor: ref,
        source: claim.pipelineRef,
        revision,
        prune: true,
      },
    });
    try {
      await this.o.projects.applyManifests(project, read.text, {
        prune: true,
        actor: ref,
        revision,
      });
      await audit?.success();
    } catch (e) {
      await audit?.fail({ error: isError(e) ? e : new Error(String(e)) });
      if (e instanceof ManifestValidationError) {
        await this.o.store.put({
          ...base,
          etag: read.etag,
          checkedAt,
          refusedRevision: revision ?? 'unknown',
          problems: e.problems.map(p => locateProblem(p, read.files)),
        });
        this.o.logger.warn(
          `the pipeline of ${ref} at ${
            revision ?? 'its newest revision'
          } was refused for project ${project}: ${e.message}`,
        );
        return 'refused';
      }
      // refused for another reason that the same text will meet again (credentials without a key…)
      const userError = isError(e) && e.name === InputError.name;
      await this.o.store.put({
        ...base,
        ...(userError
          ? { etag: read.etag, refusedRevision: revision ?? 'unknown' }
          : {}),
        checkedAt,
        error: `could not apply the pipeline at ${claim.pipelineRef}: ${message(
          e,
        )}`,
      });
      return 'failed';
    }
    await this.o.store.put({
      project,
      entity: ref,
      ref: claim.pipelineRef,
      managed: true,
      ...(read.etag ? { etag: read.etag } : {}),
      ...(revision ? { revision } : {}),
      appliedAt: checkedAt,
      checkedAt,
    });
    this.o.logger.info(
      `applied the pipeline of ${ref} at ${
        revision ?? 'an unknown revision'
      } to project ${project}`,
    );
    return 'applied';
  }
}
