/*
 * Freight is listed a page at a time, newest first, with a keyset cursor on
 * (created_at, id): an index in that order per project answers a page without a sort, and
 * the lookups that build a page's views (a freight's promotions, the freight a stage has
 * verified) read by index too.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('stagecoach_freight', table => {
    table.index(['project', 'created_at', 'id'], 'stagecoach_freight_page_idx');
  });
  await knex.schema.alterTable('stagecoach_promotions', table => {
    table.index(
      ['project', 'freight_id', 'phase'],
      'stagecoach_promotions_freight_idx',
    );
  });
  await knex.schema.alterTable('stagecoach_freight_stages', table => {
    table.index(
      ['project', 'stage', 'verified_at'],
      'stagecoach_freight_stages_stage_idx',
    );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('stagecoach_freight_stages', table => {
    table.dropIndex(
      ['project', 'stage', 'verified_at'],
      'stagecoach_freight_stages_stage_idx',
    );
  });
  await knex.schema.alterTable('stagecoach_promotions', table => {
    table.dropIndex(
      ['project', 'freight_id', 'phase'],
      'stagecoach_promotions_freight_idx',
    );
  });
  await knex.schema.alterTable('stagecoach_freight', table => {
    table.dropIndex(
      ['project', 'created_at', 'id'],
      'stagecoach_freight_page_idx',
    );
  });
};
