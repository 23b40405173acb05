/**
 * Loads a dbt-shaped folder: `models/<layer>/<name>.sql` (a model per file, named after it, its
 * layer from `config(layer=...)` or its first folder), `.yml` properties files anywhere under
 * `models/`, and singular tests as `tests/<name>.sql`. The result is the same `Project` that `createProject` gives TypeScript models.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { ConfigurationError } from '@causeway/core';
import type { ModelDefinition, SingularTestDefinition } from '../model-definition.ts';
import { createProject, type Project } from '../project.ts';
import { parseTemplate } from './jinja-template.ts';
import { type ConfigFields, modelConfigFields } from './model-config.ts';
import { type ModelProperties, parseSchemaYaml } from './schema-yaml.ts';

/** Reads and checks the project in `directory`; throws ConfigurationError naming the file (and line) at fault. */
export async function loadSqlProject(directory: string): Promise<Project> {
  const modelFiles = await filesUnder(join(directory, 'models'));
  const properties = await readProperties(
    directory,
    modelFiles.filter((file) => /\.ya?ml$/.test(file)),
  );
  const models: ModelDefinition[] = [];
  for (const file of modelFiles.filter((path) => path.endsWith('.sql'))) {
    const name = basename(file, '.sql');
    models.push(await readModel({ directory, file, properties: properties.get(name) }));
    properties.delete(name);
  }
  for (const orphan of properties.values()) {
    throw new ConfigurationError(
      `${orphan.file}: describes the model "${orphan.name}", but no models/**/${orphan.name}.sql exists`,
      {
        file: orphan.file,
        model: orphan.name,
      },
    );
  }
  const testFiles = (await filesUnder(join(directory, 'tests'))).filter((path) => path.endsWith('.sql'));
  const singularTests = await Promise.all(testFiles.map((file) => readSingularTest(directory, file)));
  return createProject(models, { singularTests });
}

async function readModel(input: {
  directory: string;
  file: string;
  properties: ModelProperties | undefined;
}): Promise<ModelDefinition> {
  const display = relative(input.directory, input.file);
  const template = parseTemplate(await readFile(input.file, 'utf8'), display);
  const fields: ConfigFields = {
    ...configFields(input.properties?.config ?? {}, input.properties?.file ?? display),
    // As in dbt, the file's own config wins over the properties file.
    ...configFields(template.config, display),
  };
  const folders = relative(join(input.directory, 'models'), input.file).split(sep).slice(0, -1);
  const layer = fields.layer ?? folders[0];
  if (layer === undefined) {
    throw new ConfigurationError(
      `${display}: no layer: put the file in models/<layer>/ or set config(layer='...')`,
      {
        file: display,
      },
    );
  }
  return {
    name: basename(input.file, '.sql'),
    materialized: 'view',
    ...fields,
    layer,
    ...(input.properties?.description === undefined ? {} : { description: input.properties.description }),
    tests: input.properties?.tests ?? [],
    sql: (ctx) => template.render(ctx),
  };
}

async function readSingularTest(directory: string, file: string): Promise<SingularTestDefinition> {
  const display = relative(directory, file);
  const template = parseTemplate(await readFile(file, 'utf8'), display);
  if (template.modelOnlyLine !== null) {
    throw new ConfigurationError(
      `${display}:${template.modelOnlyLine}: a test has no {{ this }} and no is_incremental()`,
      {
        file: display,
      },
    );
  }
  const { severity, ...rest } = template.config;
  if (
    Object.keys(rest).length > 0 ||
    (severity !== undefined && severity !== 'warn' && severity !== 'error')
  ) {
    throw new ConfigurationError(
      `${display}: a test's config takes only severity='warn' or severity='error'`,
      {
        file: display,
      },
    );
  }
  return {
    name: basename(file, '.sql'),
    ...(severity === undefined ? {} : { severity }),
    sql: (ctx) => template.render(ctx),
  };
}

async function readProperties(
  directory: string,
  files: readonly string[],
): Promise<Map<string, ModelProperties>> {
  const byModel = new Map<string, ModelProperties>();
  for (const file of files) {
    for (const entry of parseSchemaYaml(await readFile(file, 'utf8'), relative(directory, file))) {
      const earlier = byModel.get(entry.name);
      if (earlier !== undefined) {
        throw new ConfigurationError(
          `${entry.file}: the model "${entry.name}" is described twice (also in ${earlier.file})`,
          {
            model: entry.name,
          },
        );
      }
      byModel.set(entry.name, entry);
    }
  }
  return byModel;
}

function configFields(config: Readonly<Record<string, unknown>>, file: string): ConfigFields {
  try {
    return modelConfigFields(config);
  } catch (error) {
    throw new ConfigurationError(`${file}: ${(error as Error).message}`, { file });
  }
}

/** Every file under `folder`, sorted so loading is deterministic; none when the folder is missing. */
async function filesUnder(folder: string): Promise<string[]> {
  try {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
