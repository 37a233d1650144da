/*
 * Pipelines from the catalog: a project whose manifests a catalog entity names with its
 * `stagecoach.io/pipeline-ref` annotation. One row per project: the entity that owns it (a
 * second entity claiming the project is refused with this one's name), the annotation's value,
 * what was last applied (revision, when) and what was last refused (the problems). `managed`
 * turns false when the entity drops the annotation or leaves the catalog: the project stays.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_catalog_pipelines', table => {
    table.string('project', 253).primary();
    table.string('entity_ref', 255).notNullable().comment('the owning entity, as kind:namespace/name');
    table.string('pipeline_ref', 1000).notNullable().comment('the annotation stagecoach.io/pipeline-ref as last read');
    table.boolean('managed').notNullable().defaultTo(true).comment('false once the entity no longer names the pipeline');
    table.string('etag', 255).nullable().comment('the URL reader\'s ETag of what was last read (applied or refused)');
    table.string('revision', 255).nullable().comment('the revision last applied');
    table.string('applied_at', 30).nullable();
    table.string('checked_at', 30).nullable().comment('when the source was last read');
    table.string('refused_revision', 255).nullable().comment('the revision of the last refused change, while it is the newest');
    table.text('problems_json').nullable().comment('the problems of the last refused change (document, path, message)');
    table.text('error').nullable().comment('why the source could not be read or applied, other than invalid manifests');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_catalog_pipelines');
};
