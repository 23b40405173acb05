// One saga as a step diagram: the forward steps left to right, the compensations under the steps
// they undo, running back right to left, each with status, attempts, duration and error; below,
// each box's span on one time axis from the saga's start. Drawn from the `diagram` that
// `GET <base>/api/sagas/<id>` answers (sagaDiagram in the package's server side).
import { clock, duration, h } from './dom.js';

const live = new Set(['running', 'compensating']);

function stepBox(box, kind) {
  const running = live.has(box.status);
  const elapsed = running && box.startedAt ? Date.now() - Date.parse(box.startedAt) : box.durationMs;
  return h(
    'div',
    {
      className: `step step-${kind} status-${box.status}`,
      'data-kind': kind,
      'data-step': box.step,
      'data-name': box.name,
      'data-status': box.status,
      style: { gridColumn: String(box.index * 2 + 1), gridRow: kind === 'forward' ? '1' : '2' },
    },
    h('div', { className: 'step-name' }, kind === 'compensation' ? `↩ ${box.name}` : box.name),
    h('div', { className: 'step-status' }, h('span', { className: `pill status-${box.status}` }, box.status)),
    h(
      'div',
      { className: 'step-meta' },
      `${box.attempts} attempt${box.attempts === 1 ? '' : 's'} · ${running ? `${duration(elapsed)}…` : duration(elapsed)}`,
    ),
    h(
      'div',
      { className: 'step-time mono' },
      box.startedAt ? `${clock(box.startedAt)} → ${clock(box.endedAt)}` : 'not run',
    ),
    box.error ? h('div', { className: 'step-error', title: box.error }, box.error) : null,
  );
}

const arrow = (column, row, text, className) =>
  h(
    'div',
    { className: `arrow ${className}`, style: { gridColumn: String(column), gridRow: String(row) } },
    text,
  );

function diagramGrid(diagram) {
  const steps = diagram.forward.length;
  const grid = h('div', {
    className: 'saga-diagram',
    style: { gridTemplateColumns: Array.from({ length: steps }, () => 'minmax(150px, 1fr)').join(' 44px ') },
  });
  diagram.forward.forEach((box, index) => {
    grid.append(stepBox(box, 'forward'));
    if (index < steps - 1) {
      const next = diagram.forward[index + 1];
      grid.append(arrow(index * 2 + 2, 1, '→', next.startedAt ? 'arrow-done' : 'arrow-idle'));
    }
  });
  if (diagram.compensations.length === 0) return grid;
  const failed = diagram.forward.findIndex((box) => box.step === diagram.failedStep);
  const lowest = Math.min(...diagram.compensations.map((box) => box.index));
  const highest = Math.max(failed, ...diagram.compensations.map((box) => box.index));
  if (failed >= 0 && !diagram.compensations.some((box) => box.index === failed)) {
    grid.append(
      h(
        'div',
        { className: 'step step-origin', style: { gridColumn: String(failed * 2 + 1), gridRow: '2' } },
        h('div', { className: 'step-name' }, '↓ failed here'),
        h('div', { className: 'step-meta' }, 'compensating back, newest first'),
      ),
    );
  }
  for (const box of diagram.compensations) grid.append(stepBox(box, 'compensation'));
  for (let index = lowest; index < highest; index++) grid.append(arrow(index * 2 + 2, 2, '←', 'arrow-back'));
  return grid;
}

function timeBars(diagram) {
  const boxes = [...diagram.forward, ...diagram.compensations].filter((box) => box.startedAt);
  const start = Date.parse(diagram.createdAt);
  const running = live.has(diagram.status);
  const ends = boxes.map((box) => Date.parse(box.endedAt ?? box.startedAt));
  const end = Math.max(start + 1, ...ends, running ? Date.now() : Date.parse(diagram.updatedAt));
  const span = end - start;
  return h(
    'div',
    { className: 'bars' },
    ...boxes.map((box) => {
      const from = Math.max(0, Date.parse(box.startedAt) - start);
      const to =
        (box.endedAt ? Date.parse(box.endedAt) : running ? Date.now() : Date.parse(diagram.updatedAt)) -
        start;
      return h(
        'div',
        { className: 'bar-row' },
        h('span', { className: 'bar-label' }, box.name),
        h(
          'span',
          { className: 'bar-track' },
          h('span', {
            className: `bar status-${box.status}`,
            style: {
              left: `${(from / span) * 100}%`,
              width: `${Math.max(0.6, ((to - from) / span) * 100)}%`,
            },
            title: `${box.name}: ${duration(to - from)}`,
          }),
        ),
        h('span', { className: 'bar-value mono' }, `+${duration(from)}`),
      );
    }),
    h('div', { className: 'bar-axis mono' }, `0 … ${duration(span)}`),
  );
}

/** The diagram and its time bars, in one element. */
export function sagaDiagramView(diagram) {
  return h(
    'div',
    { className: 'saga-view', 'data-saga': diagram.sagaId },
    diagramGrid(diagram),
    timeBars(diagram),
  );
}
