/**
 * dbt's node selection: `name`, `+name` (with its ancestors), `name+` (with its descendants),
 * `+name+`, `layer:gold`, `tag:orders`; several selectors select their union.
 */
import { InvalidArgumentError } from '@causeway/core';
import { ancestorsOf, descendantsOf } from './dag.ts';
import type { Project } from './project.ts';

/** The selected models in build order; no selector (or an empty list) selects every model. */
export function selectModels(project: Project, selectors: readonly string[] = []): string[] {
  if (selectors.length === 0) return [...project.order];
  const selected = new Set<string>();
  for (const selector of selectors) {
    for (const name of modelsOfSelector(project, selector)) selected.add(name);
  }
  return project.order.filter((name) => selected.has(name));
}

function modelsOfSelector(project: Project, rawSelector: string): Set<string> {
  const selector = rawSelector.trim();
  if (selector.startsWith('layer:')) return modelsOfLayer(project, selector);
  if (selector.startsWith('tag:')) return modelsOfTag(project, selector);
  const match = /^(\+?)([^+\s]+)(\+?)$/.exec(selector);
  if (match === null) {
    throw new InvalidArgumentError(
      'select',
      `Selector "${rawSelector}" is not valid: use name, +name, name+, +name+, layer:<layer> or tag:<tag>`,
      { selector: rawSelector },
    );
  }
  const [, withAncestors, name = '', withDescendants] = match;
  if (!project.models.has(name)) {
    throw new InvalidArgumentError(
      'select',
      `Selector "${rawSelector}" names the model "${name}", which is not in the project (known: ${[...project.models.keys()].sort().join(', ')})`,
      { selector: rawSelector, model: name },
    );
  }
  const models = new Set([name]);
  if (withAncestors) for (const ancestor of ancestorsOf(project.graph, name)) models.add(ancestor);
  if (withDescendants) for (const descendant of descendantsOf(project.graph, name)) models.add(descendant);
  return models;
}

function modelsOfLayer(project: Project, selector: string): Set<string> {
  const layer = selector.slice('layer:'.length);
  const models = new Set([...project.models.values()].filter((m) => m.layer === layer).map((m) => m.name));
  if (models.size === 0) {
    const layers = [...new Set([...project.models.values()].map((m) => m.layer))].sort();
    throw new InvalidArgumentError(
      'select',
      `Selector "${selector}" selects no model: no model is in the layer "${layer}" (layers: ${layers.join(', ')})`,
      { selector, layer },
    );
  }
  return models;
}

function modelsOfTag(project: Project, selector: string): Set<string> {
  const tag = selector.slice('tag:'.length);
  const models = new Set(
    [...project.models.values()].filter((m) => m.tags?.includes(tag)).map((m) => m.name),
  );
  if (models.size === 0) {
    throw new InvalidArgumentError(
      'select',
      `Selector "${selector}" selects no model: no model has the tag "${tag}"`,
      {
        selector,
        tag,
      },
    );
  }
  return models;
}
