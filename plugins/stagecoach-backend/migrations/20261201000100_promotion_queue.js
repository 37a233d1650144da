/*
 * The promotion queue: a promotion remembers the step it is at, when a waiting (parked)
 * promotion may run again, and whether someone asked to abort it; a step remembers how
 * many times in a row it errored and the state it handed to its next run.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('stagecoach_promotions', table => {
    table.integer('current_step').notNullable().defaultTo(0);
    table.string('wake_at', 30).nullable()
      .comment('a Running promotion with no claim waits until then (a step said it is still running)');
    table.string('abort_requested_at', 30).nullable();
    table.string('abort_requested_by', 255).nullable();
    table.index(['phase', 'wake_at']);
  });
  await knex.schema.alterTable('stagecoach_promotion_steps', table => {
    table.integer('error_count').notNullable().defaultTo(0);
    table.text('state_json').nullable().comment('what the step handed to its next run');
  });
  // set-metadata: free-form values on stages and freight, read by stageMetadata()/freightMetadata()
  await knex.schema.alterTable('stagecoach_stages', table => {
    table.text('metadata_json').nullable();
  });
  await knex.schema.alterTable('stagecoach_freight', table => {
    table.text('metadata_json').nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('stagecoach_freight', table => {
    table.dropColumn('metadata_json');
  });
  await knex.schema.alterTable('stagecoach_stages', table => {
    table.dropColumn('metadata_json');
  });
  await knex.schema.alterTable('stagecoach_promotion_steps', table => {
    table.dropColumn('state_json');
    table.dropColumn('error_count');
  });
  await knex.schema.alterTable('stagecoach_promotions', table => {
    table.dropIndex(['phase', 'wake_at']);
    table.dropColumn('abort_requested_by');
    table.dropColumn('abort_requested_at');
    table.dropColumn('wake_at');
    table.dropColumn('current_step');
  });
};
