// Gold's sales as an SVG bar chart: one bar per row (a day, a product or a country), its height
// the revenue, with orders and units in its tooltip.
import { fill, h, s, shortId } from '/causeway/dom.js';

const size = { width: 640, height: 240 };
const plot = { left: 54, right: 8, top: 22, bottom: 34 };

/** 1234.50 from 123450 cents. */
export const money = (cents) =>
  (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const keyLabel = (key, groupBy) => (groupBy === 'product' ? shortId(key) : key);

function axis(highest) {
  const height = size.height - plot.top - plot.bottom;
  return [0, 0.5, 1].map((fraction) => {
    const y = plot.top + height * (1 - fraction);
    return s(
      'g',
      { class: 'chart-grid' },
      s('line', { x1: plot.left, x2: size.width - plot.right, y1: y, y2: y }),
      s('text', { x: plot.left - 6, y: y + 4, 'text-anchor': 'end' }, money(highest * fraction)),
    );
  });
}

function bar(row, index, { slot, highest, groupBy }) {
  const height = size.height - plot.top - plot.bottom;
  const barHeight = Math.max(1, (row.revenueCents / highest) * height);
  const width = Math.max(4, Math.min(64, slot * 0.7));
  const x = plot.left + index * slot + (slot - width) / 2;
  const y = plot.top + height - barHeight;
  return s(
    'g',
    {
      class: 'sales-bar',
      'data-testid': 'sales-bar',
      'data-key': row.key,
      'data-revenue-cents': row.revenueCents,
    },
    s('title', {}, `${row.key}: ${money(row.revenueCents)} · ${row.orders} orders · ${row.units} units`),
    s('rect', { x, y, width, height: barHeight, rx: 2 }),
    // Labels only where they fit; the tooltip always has them.
    slot >= 48
      ? s(
          'text',
          { x: x + width / 2, y: y - 5, class: 'sales-value', 'text-anchor': 'middle' },
          money(row.revenueCents),
        )
      : null,
    slot >= 36
      ? s(
          'text',
          {
            x: x + width / 2,
            y: size.height - plot.bottom + 15,
            class: 'sales-key',
            'text-anchor': 'middle',
          },
          keyLabel(row.key, groupBy),
        )
      : null,
  );
}

/** Draws the rows of `GET /analytics/sales?groupBy=...` into `area`. */
export function renderSalesChart(area, { rows, groupBy }) {
  if (!rows.length) {
    return fill(area, h('p', { className: 'empty' }, 'No confirmed orders in gold yet: place one.'));
  }
  const highest = Math.max(1, ...rows.map((row) => row.revenueCents));
  const slot = (size.width - plot.left - plot.right) / rows.length;
  fill(
    area,
    s(
      'svg',
      {
        viewBox: `0 0 ${size.width} ${size.height}`,
        class: 'sales-chart',
        role: 'img',
        'aria-label': `revenue by ${groupBy}`,
        'data-group-by': groupBy,
      },
      ...axis(highest),
      ...rows.map((row, index) => bar(row, index, { slot, highest, groupBy })),
    ),
  );
}
