/*
 * A cluster apply may be a merge (`PUT /cluster/manifests?merge=true`): it adds and updates
 * the documents it sends and leaves every other stored cluster resource as it is. The
 * history says which applies were merges.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('stagecoach_cluster_applies', table => {
    table.boolean('merged').notNullable().defaultTo(false).comment('the apply added and updated only, removing nothing it did not name');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('stagecoach_cluster_applies', table => {
    table.dropColumn('merged');
  });
};
