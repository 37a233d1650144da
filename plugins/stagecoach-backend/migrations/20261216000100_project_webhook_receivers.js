/*
 * A project's inbound webhook receivers: Kargo's ProjectConfig webhookReceivers. Each answers
 * at /api/stagecoach/webhooks/<path_hash>, a digest of the project, the receiver's name and
 * its secret; the secret itself is sealed as project credentials are (AES-256-GCM, app-config
 * stagecoach.credentials.encryptionKey).
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_project_webhook_receivers', table => {
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('name', 63).notNullable();
    table.string('provider', 16).notNullable().comment('github, gitlab, gitea, bitbucket, dockerhub, quay or harbor');
    table.string('secret_name', 253).notNullable().comment('the Secret of the set it takes its secret from');
    table.string('path_hash', 64).notNullable().unique().comment('the last segment of its URL');
    table.string('key_id', 16).notNullable();
    table.text('sealed').notNullable();
    table.primary(['project', 'name']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_project_webhook_receivers');
};
