import { describe, expect, it } from 'vitest';
import { parseTemplate } from './jinja-template.ts';

const context = (isIncremental: boolean) => ({
  ref: (name: string) => `"silver"."${name}"`,
  source: (source: string, table: string) => `"${source}"."${table}"`,
  isIncremental,
  this: '"silver"."me"',
});

describe('parseTemplate', () => {
  it('renders refs, sources, this, both branches of is_incremental() and drops comments', () => {
    const template = parseTemplate(
      `{# built hourly #}SELECT * FROM {{ ref('a') }} JOIN {{source('bronze','b')}} USING (id)
{% if not is_incremental() %}-- first build{% else %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}`,
      'models/silver/me.sql',
    );
    expect(template.render(context(false))).toBe(
      'SELECT * FROM "silver"."a" JOIN "bronze"."b" USING (id)\n-- first build',
    );
    expect(template.render(context(true))).toBe(
      'SELECT * FROM "silver"."a" JOIN "bronze"."b" USING (id)\nWHERE id > (SELECT max(id) FROM "silver"."me")',
    );
  });

  it('reads config values (strings, lists, booleans) and applies whitespace control', () => {
    const template = parseTemplate(
      "{{- config(materialized='incremental', unique_key=['a', \"b\"], full=true) -}}\n\nSELECT 1",
      'models/silver/me.sql',
    );
    expect(template.config).toEqual({ materialized: 'incremental', unique_key: ['a', 'b'], full: true });
    expect(template.render(context(false))).toBe('SELECT 1');
  });

  it('names the file and line of what it cannot read', () => {
    expect(() => parseTemplate('SELECT 1\n{{ ref(a) }}', 'm.sql')).toThrow(
      /m\.sql:2: cannot read "ref\(a\)"/,
    );
    expect(() => parseTemplate('SELECT 1\n\n{% endif %}', 'm.sql')).toThrow(
      /m\.sql:3: unsupported Jinja "\{% endif %\}"/,
    );
    expect(() => parseTemplate("{{ ref('a') | upper }}", 'm.sql')).toThrow(/m\.sql:1: /);
  });
});
