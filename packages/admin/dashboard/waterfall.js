// One trace as a waterfall: a row per span, indented by its depth in the parent tree, its bar
// placed by when the span started and sized by how long it took, against the whole trace.
// Plain DOM, drawn with the page's element builder; the layout is a pure function of the spans.

/**
 * The rows of a trace's waterfall: parents before their children, siblings by start, each span
 * with its depth and its bar's offset and width in percent of the trace (earliest start to latest
 * end). A span whose parent is not among them (recorded by another process) is drawn as a root.
 * @param {ReadonlyArray<{ spanId: string, parentSpanId: string | null, startMs: number, durationMs: number }>} spans
 * @returns {Array<{ span: object, depth: number, offset: number, width: number }>}
 */
export function waterfallRows(spans) {
  if (spans.length === 0) return [];
  const { begin, end } = extentOf(spans);
  const total = end - begin;
  const ids = new Set(spans.map((span) => span.spanId));
  const childrenOf = new Map();
  const roots = [];
  for (const span of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    const parent = span.parentSpanId;
    if (parent === null || parent === span.spanId || !ids.has(parent)) roots.push(span);
    else {
      const siblings = childrenOf.get(parent) ?? [];
      siblings.push(span);
      childrenOf.set(parent, siblings);
    }
  }
  const rows = [];
  const placed = new Set();
  const place = (span, depth) => {
    if (placed.has(span.spanId)) return;
    placed.add(span.spanId);
    // A trace of zero length (one instant span) draws one full bar rather than dividing by zero.
    const offset = total > 0 ? ((span.startMs - begin) / total) * 100 : 0;
    const width = total > 0 ? Math.min((span.durationMs / total) * 100, 100 - offset) : 100;
    rows.push({ span, depth, offset, width });
    for (const child of childrenOf.get(span.spanId) ?? []) place(child, depth + 1);
  };
  for (const root of roots) place(root, 0);
  // Spans whose parents only lead round in a circle (a corrupt trace) are still shown, as roots.
  for (const span of spans) place(span, 0);
  return rows;
}

/** From the earliest start to the latest end, in epoch milliseconds. */
function extentOf(spans) {
  const begin = Math.min(...spans.map((span) => span.startMs));
  const end = Math.max(...spans.map((span) => span.startMs + span.durationMs));
  return { begin, end };
}

const millis = (ms) => `${ms.toFixed(ms < 1 ? 2 : 1)} ms`;

/**
 * The waterfall of `GET traces/<id>`'s answer as an element, built with `h` (the page's
 * `h(tag, props, ...children)`): a heading with the span count and the trace's length, then the rows.
 */
export function traceWaterfall({ traceId, recorded, spans }, h) {
  const box = (...children) => h('div', { className: 'waterfall', 'data-trace': traceId }, ...children);
  const heading = (...extra) => h('h3', {}, 'Trace ', h('span', { className: 'mono' }, traceId), ...extra);
  if (!recorded) {
    return box(
      heading(),
      h(
        'p',
        { className: 'empty' },
        'This service keeps no spans: give its admin handler its tracing (traces).',
      ),
    );
  }
  if (spans.length === 0) {
    return box(
      heading(),
      h(
        'p',
        { className: 'empty' },
        'No span of this trace is kept here: it is older than the recent traces this process keeps, or ran elsewhere.',
      ),
    );
  }
  const rows = waterfallRows(spans);
  const { begin, end } = extentOf(spans);
  return box(
    heading(h('span', { className: 'muted' }, ` ${spans.length} spans · ${millis(end - begin)}`)),
    h(
      'ol',
      { className: 'waterfall-rows' },
      rows.map(({ span, depth, offset, width }) => {
        const failed = span.status === 'error';
        return h(
          'li',
          {
            className: `waterfall-row kind-${span.kind}${failed ? ' span-error' : ''}`,
            'data-testid': 'span-row',
            'data-span': span.spanId,
            'data-depth': depth,
            style: `--depth: ${depth}`,
          },
          h(
            'div',
            { className: 'waterfall-label' },
            h(
              'span',
              { className: 'muted' },
              // An instance named as its service (the shop's first process) is not named twice.
              span.instance && span.instance !== span.service
                ? `${span.service}/${span.instance}`
                : span.service,
            ),
            ' ',
            h('b', {}, span.name),
            ' ',
            h('span', { className: 'mono' }, millis(span.durationMs)),
            failed ? [' ', h('span', { className: 'pill status-failed' }, 'error')] : null,
            failed && span.statusMessage ? h('div', { className: 'reason' }, span.statusMessage) : null,
          ),
          h(
            'div',
            { className: 'waterfall-track' },
            h('span', {
              className: 'waterfall-bar',
              style: `left: ${offset.toFixed(3)}%; width: ${width.toFixed(3)}%`,
            }),
          ),
        );
      }),
    ),
  );
}
