/*
 * Who applied which manifests: one row per apply of a project's manifests (through the API
 * or from app-config at startup), with the actor, the revision the caller named, a digest of
 * the YAML and what the apply changed. The newest rows are kept (ManifestApplyStore).
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_manifest_applies', table => {
    table.increments('id');
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('applied_at', 30).notNullable();
    table.string('applied_by', 255).nullable().comment('the user or service; app-config for manifests loaded at startup');
    table.string('revision', 255).nullable().comment('the source revision the caller named (a commit SHA, a tag)');
    table.string('digest', 71).notNullable().comment('sha256:<hex> of the YAML text as sent');
    table.boolean('pruned').notNullable().defaultTo(false).comment('removal of warehouses or stages was allowed');
    table.text('changes_json').notNullable().comment('warehouses, stages and ProjectConfig added, changed, removed');
    table.index(['project', 'id']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_manifest_applies');
};
