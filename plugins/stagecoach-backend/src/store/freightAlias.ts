/**
 * What a freight alias looks like (`brave-otter`): 1 to 63 lowercase letters, digits and `-`,
 * starting and ending with a letter or digit. The API and the set-freight-alias step accept
 * only such aliases; FreightStore keeps them unique in a project.
 */
const FREIGHT_ALIAS = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const FREIGHT_ALIAS_RULE =
  '1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit';

export function isFreightAlias(alias: unknown): alias is string {
  return typeof alias === 'string' && FREIGHT_ALIAS.test(alias);
}
