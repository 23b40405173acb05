import { describe, expect, it } from 'vitest';
import { readCommand, UsageError } from './read-command.ts';

const paths = ['--project', 'analytics', '--database', 'analytics.duckdb'];

describe('readCommand', () => {
  it('reads a run with its selectors, full refresh and schema template', () => {
    const command = readCommand([
      'run',
      ...paths,
      '--select',
      '+orders',
      '--select',
      'a b',
      '--full-refresh',
    ]);

    expect(command).toMatchObject({
      command: 'run',
      project: 'analytics',
      database: 'analytics.duckdb',
      select: ['+orders', 'a', 'b'],
      fullRefresh: true,
    });
  });

  it('maps layers and sources through --schemas, or to themselves without it', () => {
    const templated = readCommand(['run', ...paths, '--schemas', 'g1_{layer}']);
    const plain = readCommand(['run', ...paths]);

    expect(templated.command === 'run' && ['bronze', 'gold'].map(templated.schemaOf)).toEqual([
      'g1_bronze',
      'g1_gold',
    ]);
    expect(plain.command === 'run' && plain.schemaOf('silver')).toBe('silver');
  });

  it.each([
    [['run', ...paths, '--schemas', 'analytics'], /has no \{layer\}/],
    [['run', '--project', 'analytics'], /Missing --database/],
    [['models', ...paths, '--selct', 'x'], /Unknown flag --selct/],
    [['run', ...paths, '--select', 'a', 'b'], /Unexpected argument "b"/],
    [['build', ...paths], /Unknown command "build": use run or models/],
    [[...paths], /Give the command before the flags/],
  ])('refuses %j', (argv, message) => {
    expect(() => readCommand(argv)).toThrow(UsageError);
    expect(() => readCommand(argv)).toThrow(message);
  });

  it('gives the help of the tool and of each command', () => {
    expect(readCommand([])).toMatchObject({ command: 'help', text: expect.stringContaining('Commands:') });
    expect(readCommand(['run', '-h'])).toMatchObject({ text: expect.stringContaining('--full-refresh') });
    expect(readCommand(['models', '--help'])).toMatchObject({
      text: expect.stringContaining('models --project'),
    });
  });
});
