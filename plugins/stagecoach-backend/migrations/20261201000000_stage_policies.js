/*
 * Stage policies: which freight may enter a stage and when it enters by itself.
 *  - stage labels (what ProjectConfig stage selectors match);
 *  - manual approvals of freight for a stage, beside its verification;
 *  - the project's ProjectConfig;
 *  - auto-promotion holds (a rollback pauses auto-promotion of a stage's origin);
 *  - short leases that let one backend replica at a time decide a stage's auto-promotion.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('stagecoach_stages', table => {
    table.text('labels_json').nullable().comment("the Stage's metadata.labels");
  });

  await knex.schema.alterTable('stagecoach_freight_stages', table => {
    table.string('approved_at', 30).nullable().comment('freight approved for this stage: it may enter unverified');
    table.string('approved_by', 255).nullable();
  });

  await knex.schema.createTable('stagecoach_project_configs', table => {
    table.string('project', 253).primary()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.text('spec_json').notNullable().comment('the ProjectConfig spec as applied');
    table.string('applied_at', 30).notNullable();
  });

  await knex.schema.createTable('stagecoach_auto_promotion_holds', table => {
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('stage', 253).notNullable();
    table.string('origin', 253).notNullable().comment('the warehouse whose freight auto-promotion leaves alone');
    table.string('freight_id', 64).notNullable().comment('the freight promoted by hand');
    table.string('promotion_id', 64).nullable();
    table.string('created_by', 255).nullable();
    table.string('created_at', 30).notNullable();
    table.text('reason').notNullable();
    table.primary(['project', 'stage', 'origin']);
  });

  await knex.schema.createTable('stagecoach_auto_promotion_leases', table => {
    table.string('project', 253).notNullable();
    table.string('stage', 253).notNullable();
    table.string('holder', 255).notNullable();
    table.string('expires_at', 30).notNullable();
    table.primary(['project', 'stage']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_auto_promotion_leases');
  await knex.schema.dropTable('stagecoach_auto_promotion_holds');
  await knex.schema.dropTable('stagecoach_project_configs');
  await knex.schema.alterTable('stagecoach_freight_stages', table => {
    table.dropColumn('approved_by');
    table.dropColumn('approved_at');
  });
  await knex.schema.alterTable('stagecoach_stages', table => {
    table.dropColumn('labels_json');
  });
};
