/*
 * The cluster scope: Kargo's cluster-wide documents that belong to no project
 * (ClusterPromotionTask, ClusterConfig), applied as one set by those the permission policy
 * lets change it, and the history of those applies. Stages store the steps of the
 * ClusterPromotionTasks they call as they were when their project was applied.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_cluster_resources', table => {
    table.string('kind', 64).notNullable().comment('ClusterPromotionTask or ClusterConfig');
    table.string('name', 253).notNullable();
    table.text('spec_json').notNullable().comment('the validated spec');
    table.string('applied_at', 30).notNullable().comment('when this spec was applied (unchanged specs keep theirs)');
    table.primary(['kind', 'name']);
  });
  await knex.schema.createTable('stagecoach_cluster_applies', table => {
    table.increments('id');
    table.string('applied_at', 30).notNullable();
    table.string('applied_by', 255).nullable().comment('the user or service');
    table.string('revision', 255).nullable().comment('the source revision the caller named (a commit SHA, a tag)');
    table.string('digest', 71).notNullable().comment('sha256:<hex> of the YAML text as sent');
    table.boolean('pruned').notNullable().defaultTo(false).comment('removal of cluster resources was allowed');
    table.text('changes_json').notNullable().comment('ClusterPromotionTasks and ClusterConfig added, changed, removed');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_cluster_applies');
  await knex.schema.dropTable('stagecoach_cluster_resources');
};
