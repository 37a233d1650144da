/*
 * Verification and stage health: a verification is one analysis run of a stage's
 * AnalysisTemplates for one freight, claimed by workers like promotions are; a stage
 * remembers its last health check; a promotion step remembers what its stage's health is
 * made of (argocd-update: the apps it drove).
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_verifications', table => {
    table.string('id', 64).primary();
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('stage', 253).notNullable();
    table.string('freight_id', 64).notNullable();
    table.string('promotion_id', 64).nullable().comment('the promotion that led to it; null for a re-verification');
    table.string('phase', 16).notNullable();
    table.text('message').nullable();
    table.text('analysis_json').nullable().comment('the metrics to run: templates merged, args applied');
    table.text('metrics_json').nullable().comment('results per metric, with every measurement');
    table.string('created_by', 255).nullable();
    table.string('created_at', 30).notNullable();
    table.string('started_at', 30).nullable();
    table.string('finished_at', 30).nullable();
    table.string('next_at', 30).nullable().comment('when a worker should look at it again');
    table.string('claimed_by', 255).nullable();
    table.string('claim_expires_at', 30).nullable();
    table.string('abort_requested_by', 255).nullable();
    table.index(['project', 'stage', 'created_at']);
    table.index(['phase', 'next_at']);
  });
  await knex.schema.alterTable('stagecoach_stages', table => {
    table.text('health_json').nullable().comment('the last health check: status, reason, apps');
  });
  await knex.schema.alterTable('stagecoach_promotion_steps', table => {
    table.text('health_check_json').nullable().comment('what the stage health is made of after this step');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('stagecoach_promotion_steps', table => {
    table.dropColumn('health_check_json');
  });
  await knex.schema.alterTable('stagecoach_stages', table => {
    table.dropColumn('health_json');
  });
  await knex.schema.dropTable('stagecoach_verifications');
};
