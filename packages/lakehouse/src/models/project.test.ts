import { ConfigurationError, InvalidArgumentError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { defineModel, type ModelDefinition } from './model-definition.ts';
import { createProject } from './project.ts';
import { selectModels } from './selection.ts';

function view(name: string, layer: string, refs: string[]): ModelDefinition {
  return defineModel({
    name,
    layer,
    materialized: 'view',
    sql: (ctx) =>
      refs.length === 0
        ? 'SELECT 1 AS id'
        : refs.map((ref) => `SELECT id FROM ${ctx.ref(ref)}`).join(' UNION ALL '),
  });
}

// raw -> (b_clean, a_clean) -> joined -> (report, summary); lonely stands alone.
const models = [
  view('report', 'gold', ['joined']),
  view('joined', 'silver', ['b_clean', 'a_clean']),
  view('b_clean', 'silver', ['raw']),
  view('raw', 'silver', []),
  view('a_clean', 'silver', ['raw']),
  view('summary', 'gold', ['joined']),
  view('lonely', 'gold', []),
];

describe('createProject', () => {
  it('orders models after their dependencies, ties by name', () => {
    const project = createProject(models);
    expect(project.order).toEqual(['lonely', 'raw', 'a_clean', 'b_clean', 'joined', 'report', 'summary']);
    expect(project.models.get('joined')?.dependsOn).toEqual(['a_clean', 'b_clean']);
  });

  it('finds refs made only in the incremental branch', () => {
    const project = createProject([
      view('raw', 'silver', []),
      defineModel({
        name: 'grows',
        layer: 'silver',
        materialized: 'incremental',
        uniqueKey: 'id',
        sql: (ctx) =>
          `SELECT 1 AS id ${ctx.isIncremental ? `WHERE id NOT IN (SELECT id FROM ${ctx.ref('raw')})` : ''}`,
      }),
    ]);
    expect(project.models.get('grows')?.dependsOn).toEqual(['raw']);
  });

  it('refuses a cycle and shows its path', () => {
    const cyclic = [
      view('a', 'silver', ['c']),
      view('b', 'silver', ['a']),
      view('c', 'silver', ['b']),
      view('d', 'gold', ['a']),
    ];
    expect(() => createProject(cyclic)).toThrow(ConfigurationError);
    expect(() => createProject(cyclic)).toThrow('a -> c -> b -> a');
  });

  it('refuses a ref to an unknown model, naming the model and the ref', () => {
    expect(() => createProject([view('orders', 'silver', ['ordres'])])).toThrow(
      /Model "orders" refs "ordres", which is not a model/,
    );
  });

  it('refuses duplicate names, an incremental without uniqueKey and a snapshot without strategy', () => {
    expect(() => createProject([view('a', 'silver', []), view('a', 'gold', [])])).toThrow(
      /Two models are named "a"/,
    );
    const base = { name: 'x', layer: 'silver', sql: () => 'SELECT 1 AS id' };
    expect(() => createProject([defineModel({ ...base, materialized: 'incremental' })])).toThrow(
      /"x" is incremental but has no uniqueKey/,
    );
    expect(() =>
      createProject([defineModel({ ...base, materialized: 'snapshot', uniqueKey: 'id' })]),
    ).toThrow(/"x" is a snapshot without a strategy/);
  });

  it('refuses a relationships test to an unknown model', () => {
    const model = defineModel({
      ...view('orders', 'silver', []),
      tests: [{ type: 'relationships', column: 'id', to: 'customerz', field: 'id' }],
    });
    expect(() => createProject([model])).toThrow(/refs "customerz"/);
  });
});

describe('selectModels', () => {
  const project = createProject(models);

  it('selects a model with its ancestors (+name)', () => {
    expect(selectModels(project, ['+joined'])).toEqual(['raw', 'a_clean', 'b_clean', 'joined']);
  });

  it('selects a model with its descendants (name+)', () => {
    expect(selectModels(project, ['b_clean+'])).toEqual(['b_clean', 'joined', 'report', 'summary']);
  });

  it('selects a layer, and the union of several selectors', () => {
    expect(selectModels(project, ['layer:gold'])).toEqual(['lonely', 'report', 'summary']);
    expect(selectModels(project, ['a_clean', 'report'])).toEqual(['a_clean', 'report']);
    expect(selectModels(project)).toEqual(project.order);
  });

  it('selects the models with a tag (tag:name)', () => {
    const tagged = createProject([
      defineModel({ ...view('orders', 'silver', []), tags: ['orders'] }),
      defineModel({ ...view('payments', 'silver', []), tags: ['payments', 'orders'] }),
      view('dates', 'silver', []),
    ]);
    expect(selectModels(tagged, ['tag:orders'])).toEqual(['orders', 'payments']);
    expect(selectModels(tagged, ['tag:payments'])).toEqual(['payments']);
    expect(() => selectModels(tagged, ['tag:shipping'])).toThrow('no model has the tag "shipping"');
  });

  it('refuses an unknown model or layer with InvalidArgumentError', () => {
    expect(() => selectModels(project, ['+nope'])).toThrow(InvalidArgumentError);
    expect(() => selectModels(project, ['+nope'])).toThrow(/"nope", which is not in the project/);
    expect(() => selectModels(project, ['layer:platinum'])).toThrow(InvalidArgumentError);
  });
});
