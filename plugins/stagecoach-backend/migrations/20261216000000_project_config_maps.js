/*
 * Project config maps: the ConfigMaps in a project's manifests, which Kargo's `configMap()`
 * reads in promotion steps and verification arguments. Stored as written (a ConfigMap is not
 * secret); the cluster scope's ConfigMaps (`sharedConfigMap()`) are in stagecoach_cluster_resources.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_project_config_maps', table => {
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('name', 253).notNullable().comment("the ConfigMap's metadata.name");
    table.text('data_json').notNullable().comment('its data: key to text');
    table.string('updated_at', 30).notNullable();
    table.primary(['project', 'name']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_project_config_maps');
};
