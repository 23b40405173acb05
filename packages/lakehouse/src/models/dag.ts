/**
 * The model graph: each model name mapped to the models it reads. Everything here is
 * deterministic: ties are broken by name, so two runs of the same project build in the same order.
 */

/** Model name -> the names of the models it depends on (all present as keys). */
export type DependencyGraph = ReadonlyMap<string, readonly string[]>;

/** A cycle as a path that ends where it starts (`['a', 'b', 'c', 'a']`), or null when there is none. */
export function findCycle(graph: DependencyGraph): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];

  function visit(name: string): string[] | null {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    for (const dependency of [...(graph.get(name) ?? [])].sort()) {
      const cycle = visit(dependency);
      if (cycle !== null) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  }

  for (const name of [...graph.keys()].sort()) {
    const cycle = visit(name);
    if (cycle !== null) return cycle;
  }
  return null;
}

/** Every model after all of its dependencies; among models ready together, by name. Assumes no cycle. */
export function topologicalOrder(graph: DependencyGraph): string[] {
  const waitingOn = new Map<string, number>();
  const dependents = dependentsOf(graph);
  for (const [name, dependencies] of graph) waitingOn.set(name, new Set(dependencies).size);
  const ready = [...graph.keys()].filter((name) => waitingOn.get(name) === 0).sort();
  const order: string[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(name);
    for (const dependent of dependents.get(name) ?? []) {
      const left = waitingOn.get(dependent)! - 1;
      waitingOn.set(dependent, left);
      if (left === 0) insertSorted(ready, dependent);
    }
  }
  return order;
}

/** The models that `name` reads, directly or not (without `name` itself). */
export function ancestorsOf(graph: DependencyGraph, name: string): Set<string> {
  return reachable(name, (node) => graph.get(node) ?? []);
}

/** The models that read `name`, directly or not (without `name` itself). */
export function descendantsOf(graph: DependencyGraph, name: string): Set<string> {
  const dependents = dependentsOf(graph);
  return reachable(name, (node) => dependents.get(node) ?? []);
}

function dependentsOf(graph: DependencyGraph): Map<string, Set<string>> {
  const dependents = new Map<string, Set<string>>();
  for (const [name, dependencies] of graph) {
    for (const dependency of dependencies) {
      const set = dependents.get(dependency) ?? new Set<string>();
      set.add(name);
      dependents.set(dependency, set);
    }
  }
  return dependents;
}

function reachable(start: string, next: (node: string) => Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...next(start)];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node) || node === start) continue;
    seen.add(node);
    stack.push(...next(node));
  }
  return seen;
}

function insertSorted(sorted: string[], value: string): void {
  const index = sorted.findIndex((existing) => existing > value);
  if (index === -1) sorted.push(value);
  else sorted.splice(index, 0, value);
}
