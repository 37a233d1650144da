import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';

/**
 * Parameters of a permission rule as a Standard Schema with its JSON Schema, which is what
 * the permission framework asks of rule parameters (it validates conditions with it and
 * shows the schema to policy authors). Stagecoach's rules take only objects of string
 * arrays and strings, so a small description of them is enough.
 */
type Field = { type: 'string' } | { type: 'strings' };
type FieldsOf<T> = { [K in keyof T]-?: Field };

export type RuleParamsSchema<T> = StandardSchemaV1<T> & StandardJSONSchemaV1<T>;

export function ruleParams<T extends Record<string, string | string[] | undefined>>(
  fields: FieldsOf<T>,
  options: { required: Array<keyof T & string>; descriptions: { [K in keyof T]-?: string } },
): RuleParamsSchema<T> {
  const jsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: options.required,
    properties: Object.fromEntries(
      Object.entries(fields as Record<string, Field>).map(([name, f]) => [
        name,
        {
          ...(f.type === 'string' ? { type: 'string' } : { type: 'array', items: { type: 'string' } }),
          description: options.descriptions[name as keyof T],
        },
      ]),
    ),
  };
  const validate = (value: unknown): StandardSchemaV1.Result<T> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { issues: [{ message: 'must be an object' }] };
    }
    const issues: StandardSchemaV1.Issue[] = [];
    const given = value as Record<string, unknown>;
    for (const key of Object.keys(given)) {
      if (!(key in fields)) issues.push({ message: `unknown parameter "${key}"`, path: [key] });
    }
    for (const [name, f] of Object.entries(fields as Record<string, Field>)) {
      const v = given[name];
      if (v === undefined) {
        if (options.required.includes(name as keyof T & string)) issues.push({ message: 'is required', path: [name] });
      } else if (f.type === 'string' ? typeof v !== 'string' : !Array.isArray(v) || v.some(x => typeof x !== 'string')) {
        issues.push({ message: f.type === 'string' ? 'must be a string' : 'must be an array of strings', path: [name] });
      }
    }
    return issues.length ? { issues } : { value: given as T };
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'stagecoach',
      validate,
      jsonSchema: {
        input: () => jsonSchema,
        output: () => jsonSchema,
      },
    },
  };
}
