/*
 * Project credentials: the Secrets labelled kargo.akuity.io/cred-type in a project's
 * manifests. Their values are sealed (AES-256-GCM, app-config
 * stagecoach.credentials.encryptionKey) before they reach this table: `sealed` holds the
 * nonce, the tag and the ciphertext; `fingerprint` (an HMAC under a key derived from the same
 * key) tells a changed credential from an unchanged one without decrypting it.
 */

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('stagecoach_project_credentials', table => {
    table.string('project', 253).notNullable()
      .references('name').inTable('stagecoach_projects').onDelete('CASCADE');
    table.string('name', 253).notNullable().comment('the Secret\'s metadata.name');
    table.string('type', 16).notNullable().comment('git, helm, image or generic');
    table.text('repo_url').nullable().comment('the repository URL it is for, or a pattern of them');
    table.boolean('repo_url_is_regex').notNullable().defaultTo(false);
    table.string('key_id', 16).notNullable().comment('which encryption key sealed it (a digest of the key, not the key)');
    table.text('sealed').notNullable().comment('base64 of nonce, tag and ciphertext of the values');
    table.string('fingerprint', 64).notNullable().comment('HMAC of the values under a key derived from the encryption key');
    table.string('updated_at', 30).notNullable();
    table.primary(['project', 'name']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('stagecoach_project_credentials');
};
