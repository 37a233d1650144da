/*
 * Stagecoach's first schema: projects, warehouses, stages, freight (with per-stage
 * status), promotions and their steps. Timestamps are stored as ISO-8601 strings in
 * UTC (`string(30)`), which sort correctly and read the same on SQLite and PostgreSQL.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_projects', table => {
    table.string('name', 253).primary();
    table.string('created_at', 30).notNullable();
    table.string('updated_at', 30).notNullable();
  });

  await knex.schema.createTable('stagecoach_warehouses', table => {
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('name', 253).notNullable();
    table.text('spec_json').notNullable().comment('the Warehouse spec as applied');
    table.string('next_discovery_at', 30).nullable();
    table.string('last_discovery_at', 30).nullable();
    table.text('last_error').nullable();
    table.integer('failure_count').notNullable().defaultTo(0);
    table.string('observed_refs_hash', 64).nullable()
      .comment('digest of the remote refs seen last time; unchanged refs skip discovery');
    table.string('last_freight_id', 64).nullable();
    table.text('discovered_json').nullable().comment('what each subscription discovered last time');
    table.primary(['project', 'name']);
  });

  await knex.schema.createTable('stagecoach_stages', table => {
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('name', 253).notNullable();
    table.text('spec_json').notNullable().comment('the Stage spec as applied');
    table.string('current_freight_id', 64).nullable();
    table.string('current_promotion_id', 64).nullable()
      .comment('the promotion running for this stage; claiming it is the one-per-stage lock');
    table.primary(['project', 'name']);
  });

  await knex.schema.createTable('stagecoach_freight', table => {
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('id', 64).notNullable().comment('sha1 of origin + sorted artifact references');
    table.string('alias', 253).notNullable();
    table.string('warehouse', 253).notNullable();
    table.text('artifacts_json').notNullable().comment('{commits, images, charts}');
    table.string('created_at', 30).notNullable();
    table.primary(['project', 'id']);
    table.unique(['project', 'alias']);
    table.index(['project', 'warehouse', 'created_at']);
  });

  await knex.schema.createTable('stagecoach_freight_stages', table => {
    table.string('project', 253).notNullable();
    table.string('freight_id', 64).notNullable();
    table.string('stage', 253).notNullable();
    table.string('verified_at', 30).nullable();
    table.primary(['project', 'freight_id', 'stage']);
    table.foreign(['project', 'freight_id'])
      .references(['project', 'id']).inTable('stagecoach_freight').onDelete('CASCADE');
  });

  await knex.schema.createTable('stagecoach_promotions', table => {
    table.string('id', 64).primary();
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('stage', 253).notNullable();
    table.string('freight_id', 64).notNullable();
    table.string('phase', 16).notNullable();
    table.text('message').nullable();
    table.text('steps_json').notNullable().comment('the steps to run, frozen when the promotion was created');
    table.text('vars_json').notNullable().defaultTo('[]');
    table.string('created_by', 255).nullable();
    table.string('created_at', 30).notNullable();
    table.string('started_at', 30).nullable();
    table.string('finished_at', 30).nullable();
    table.string('claimed_by', 255).nullable();
    table.string('claim_expires_at', 30).nullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.index(['phase', 'created_at']);
    table.index(['project', 'stage', 'created_at']);
  });

  await knex.schema.createTable('stagecoach_promotion_steps', table => {
    table.string('promotion_id', 64).notNullable()
      .references('id').inTable('stagecoach_promotions').onDelete('CASCADE');
    table.integer('idx').notNullable();
    table.string('uses', 253).notNullable();
    table.string('alias', 253).notNullable();
    table.string('status', 16).notNullable();
    table.text('message').nullable();
    table.text('outputs_json').nullable();
    table.string('started_at', 30).nullable();
    table.string('finished_at', 30).nullable();
    table.primary(['promotion_id', 'idx']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_promotion_steps');
  await knex.schema.dropTable('stagecoach_promotions');
  await knex.schema.dropTable('stagecoach_freight_stages');
  await knex.schema.dropTable('stagecoach_freight');
  await knex.schema.dropTable('stagecoach_stages');
  await knex.schema.dropTable('stagecoach_warehouses');
  await knex.schema.dropTable('stagecoach_projects');
};
