// The analytics models as a DAG drawn in SVG: a column per depth, layers left to right (silver →
// gold), an edge per `dependsOn`, each model coloured by its last run and carrying its tests.
import { fill, h, s } from '/causeway/dom.js';

const node = { width: 204, height: 74 };
const gap = { x: 46, y: 14 };
const top = 30;
const layerOrder = ['bronze', 'silver', 'gold'];

/** The model's last run as one word: success, error, skipped, or never (not run yet). */
export const runStatusOf = (model) => model.lastRun?.status ?? 'never';

/** Pass, warn and fail counts of a model's tests (a test whose query failed counts as failed). */
export function testCountsOf(model) {
  const counts = { pass: 0, warn: 0, fail: 0 };
  for (const test of model.tests) {
    if (test.status === 'pass') counts.pass++;
    else if (test.status === 'warn') counts.warn++;
    else if (test.status === 'fail' || test.status === 'error') counts.fail++;
  }
  return counts;
}

const failingTestsOf = (model) =>
  model.tests.filter((test) => test.status === 'fail' || test.status === 'error').map((test) => test.name);

/**
 * Each model's column: layers never share a column, and within a layer a model sits right of
 * every model it depends on.
 */
function columnsOf(models) {
  const byName = new Map(models.map((model) => [model.name, model]));
  const layers = [...new Set([...layerOrder, ...models.map((model) => model.layer)])];
  const columns = new Map();
  const columnOf = (model, offset, seen = new Set()) => {
    if (columns.has(model.name)) return columns.get(model.name);
    seen.add(model.name);
    const own = model.dependsOn
      .map((name) => byName.get(name))
      .filter((dependency) => dependency?.layer === model.layer && !seen.has(dependency.name))
      .map((dependency) => columnOf(dependency, offset, seen) + 1);
    const column = Math.max(offset, ...own);
    columns.set(model.name, column);
    return column;
  };
  let offset = 0;
  for (const layer of layers) {
    const inLayer = models.filter((model) => model.layer === layer);
    for (const model of inLayer) columnOf(model, offset);
    if (inLayer.length) offset = Math.max(...inLayer.map((model) => columns.get(model.name))) + 1;
  }
  return columns;
}

/**
 * Where each model's box goes: its column, and its row in the column, ordered by the rows of what
 * it depends on (fewer crossing edges), then by name.
 */
function layout(models) {
  const columns = columnsOf(models);
  const places = new Map();
  const rows = new Map();
  const meanRow = (model) => {
    const rowsOf = model.dependsOn.filter((name) => places.has(name)).map((name) => places.get(name).row);
    return rowsOf.length ? rowsOf.reduce((sum, row) => sum + row, 0) / rowsOf.length : 0;
  };
  for (const column of [...new Set(columns.values())].sort((a, b) => a - b)) {
    const inColumn = models
      .filter((model) => columns.get(model.name) === column)
      .map((model) => ({ model, order: meanRow(model) }))
      .sort((a, b) => a.order - b.order || a.model.name.localeCompare(b.model.name));
    inColumn.forEach(({ model }, row) => {
      places.set(model.name, {
        x: 8 + column * (node.width + gap.x),
        y: top + row * (node.height + gap.y),
        row,
      });
    });
    rows.set(column, inColumn.length);
  }
  const width = 16 + Math.max(0, ...columns.values()) * (node.width + gap.x) + node.width;
  const height = top + Math.max(1, ...rows.values()) * (node.height + gap.y) + 4;
  return { places, width, height };
}

function layerBand(layer, models, places, height) {
  const xs = models.filter((model) => model.layer === layer).map((model) => places.get(model.name).x);
  if (!xs.length) return null;
  const x = Math.min(...xs) - 6;
  const width = Math.max(...xs) + node.width + 6 - x;
  return s(
    'g',
    { class: `dag-layer dag-layer-${layer}`, 'data-layer': layer },
    s('rect', { x, y: 2, width, height: height - 4, rx: 10 }),
    s('text', { x: x + 10, y: 20, class: 'dag-layer-name' }, layer),
  );
}

function edge(from, to) {
  const x1 = from.x + node.width;
  const y1 = from.y + node.height / 2;
  const x2 = to.x - 2;
  const y2 = to.y + node.height / 2;
  const bend = Math.max(20, (x2 - x1) / 2);
  return s('path', {
    class: 'dag-edge',
    d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
    'marker-end': 'url(#dag-arrow)',
  });
}

function modelBox(model, { x, y }) {
  const status = runStatusOf(model);
  const counts = testCountsOf(model);
  const failing = failingTestsOf(model);
  const rows = model.lastRun?.rows;
  const tests = model.tests.length
    ? `tests ${counts.pass} pass · ${counts.warn} warn · ${counts.fail} fail`
    : 'no tests';
  const failingLine = failing.length ? `✗ ${failing.join(', ')}` : null;
  return s(
    'g',
    {
      class: `dag-model model-${status}`,
      'data-model': model.name,
      'data-layer': model.layer,
      'data-status': status,
      'data-pass': counts.pass,
      'data-warn': counts.warn,
      'data-fail': counts.fail,
    },
    s('title', {}, `${model.name}: ${status}${failing.length ? `; failing: ${failing.join(', ')}` : ''}`),
    s('rect', { x, y, width: node.width, height: node.height, rx: 7 }),
    s('text', { x: x + 9, y: y + 18, class: 'dag-name' }, model.name),
    s('text', { x: x + node.width - 8, y: y + 18, class: 'dag-status', 'text-anchor': 'end' }, status),
    s(
      'text',
      { x: x + 9, y: y + 36, class: 'dag-line' },
      `${model.materialized}${rows === null || rows === undefined ? '' : ` · ${rows} row${rows === 1 ? '' : 's'}`}`,
    ),
    s('text', { x: x + 9, y: y + 52, class: 'dag-line dag-tests' }, tests),
    failingLine
      ? s('text', { x: x + 9, y: y + 67, class: 'dag-line dag-failing' }, shorten(failingLine, 30))
      : null,
  );
}

const shorten = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/** Draws the models into `area`, and under them every failing test by name. */
export function renderModelDag(area, models) {
  if (!models.length) return fill(area, h('p', { className: 'empty' }, 'No models loaded.'));
  const { places, width, height } = layout(models);
  const edges = models.flatMap((model) =>
    model.dependsOn
      .filter((name) => places.has(name))
      .map((name) => edge(places.get(name), places.get(model.name))),
  );
  const svg = s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, class: 'dag', role: 'img', 'aria-label': 'analytics models' },
    s(
      'defs',
      {},
      s(
        'marker',
        {
          id: 'dag-arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 6,
          markerHeight: 6,
          orient: 'auto',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z' }),
      ),
    ),
    ...[...new Set(models.map((model) => model.layer))].map((layer) =>
      layerBand(layer, models, places, height),
    ),
    ...edges,
    ...models.map((model) => modelBox(model, places.get(model.name))),
  );
  const failing = models.flatMap((model) => failingTestsOf(model).map((test) => `${model.name}: ${test}`));
  fill(
    area,
    svg,
    failing.length
      ? h(
          'p',
          { className: 'warning small', 'data-testid': 'failing-tests' },
          `Failing tests: ${failing.join(' · ')}`,
        )
      : null,
  );
}
