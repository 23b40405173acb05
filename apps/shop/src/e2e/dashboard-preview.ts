/**
 * The shipped Grafana dashboard drawn without Grafana (which this machine does not have): each
 * panel's queries asked of a real Prometheus over a time range, as Grafana would ask them for one
 * job, and plotted as lines where the panel's `gridPos` puts it (24 columns, 30 px a row). The
 * Prometheus test draws it in Chromium, so what the README shows is that dashboard on the shop's
 * own metrics.
 */

export interface DashboardJson {
  title: string;
  panels: Array<{
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    targets: Array<{ expr: string; legendFormat?: string }>;
  }>;
}

export interface PanelSeries {
  label: string;
  points: Array<[seconds: number, value: number]>;
}

export interface PreviewPanel {
  title: string;
  gridPos: DashboardJson['panels'][number]['gridPos'];
  series: PanelSeries[];
}

interface RangeAnswer {
  status: string;
  data?: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

/** Each panel's series over `[start, end]` (seconds), its variables set as Grafana sets them. */
export async function queryPanels(
  dashboard: DashboardJson,
  prometheusUrl: string,
  range: { job: string; start: number; end: number; stepSeconds: number; rateInterval: string },
): Promise<PreviewPanel[]> {
  return Promise.all(
    dashboard.panels.map(async (panel) => {
      const series: PanelSeries[] = [];
      for (const target of panel.targets) {
        const promql = target.expr
          .replaceAll('$job', range.job)
          .replaceAll('$__rate_interval', range.rateInterval);
        const query = new URLSearchParams({
          query: promql,
          start: String(range.start),
          end: String(range.end),
          step: String(range.stepSeconds),
        });
        const answer = (await (
          await fetch(`${prometheusUrl}/api/v1/query_range?${query}`)
        ).json()) as RangeAnswer;
        for (const result of answer.data?.result ?? []) {
          series.push({
            label: Object.values(result.metric).join(' ') || panel.title,
            points: result.values
              .map(([at, value]) => [at, Number(value)] as [number, number])
              .filter(([, value]) => Number.isFinite(value)),
          });
        }
      }
      return { title: panel.title, gridPos: panel.gridPos, series };
    }),
  );
}

const palette = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0'];
const columnPx = 58;
const rowPx = 30;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char]!);

/** 0.0115, 5.84, 12.5k, 97.8M: three digits and an SI prefix, as Grafana's axes read. */
function shortNumber(value: number): string {
  const prefixes: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  const [scale, prefix] = prefixes.find(([each]) => Math.abs(value) >= each) ?? [1, ''];
  return `${Number((value / scale).toPrecision(3))}${prefix}`;
}

function panelSvg(panel: PreviewPanel, range: { start: number; end: number }): string {
  const width = panel.gridPos.w * columnPx - 12;
  const height = panel.gridPos.h * rowPx - 76;
  const values = panel.series.flatMap((series) => series.points.map(([, value]) => value));
  const highest = Math.max(0, ...values);
  const top = highest > 0 ? highest * 1.1 : 1;
  const x = (at: number) => 40 + ((at - range.start) / Math.max(1, range.end - range.start)) * (width - 48);
  const y = (value: number) => 8 + (1 - value / top) * (height - 24);
  const grid = [0, 0.5, 1]
    .map(
      (share) =>
        `<line x1="40" x2="${width - 8}" y1="${y(top * share)}" y2="${y(top * share)}" class="grid"/>` +
        `<text x="34" y="${y(top * share) + 4}" text-anchor="end">${shortNumber(top * share)}</text>`,
    )
    .join('');
  const lines = panel.series
    .map((series, index) => {
      const points = series.points
        .map(([at, value]) => `${x(at).toFixed(1)},${y(value).toFixed(1)}`)
        .join(' ');
      return `<polyline points="${points}" stroke="${palette[index % palette.length]}" fill="none" stroke-width="1.6"/>`;
    })
    .join('');
  return `<svg width="${width}" height="${height}" data-series="${panel.series.length}">${grid}${lines}</svg>`;
}

/** A page of the panels, dark like Grafana's default theme; each panel says how many series it drew. */
export function previewPage(
  dashboard: DashboardJson,
  panels: readonly PreviewPanel[],
  range: { start: number; end: number; job: string },
): string {
  const boxes = panels
    .map((panel) => {
      const { x, y, w, h } = panel.gridPos;
      const legend = panel.series
        .slice(0, 6)
        .map(
          (series, index) =>
            `<span><i style="background:${palette[index % palette.length]}"></i>${escapeHtml(series.label)}</span>`,
        )
        .join('');
      return `<section data-panel="${escapeHtml(panel.title)}" data-series="${panel.series.length}" style="left:${x * columnPx}px;top:${y * rowPx}px;width:${w * columnPx - 8}px;height:${h * rowPx - 8}px">
  <h2>${escapeHtml(panel.title)}</h2>${panel.series.length ? panelSvg(panel, range) : '<p class="none">No data</p>'}<div class="legend">${legend}</div>
</section>`;
    })
    .join('\n');
  const bottom = Math.max(...panels.map((panel) => panel.gridPos.y + panel.gridPos.h)) * rowPx;
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; padding: 12px; background: #111217; color: #ccccdc; font: 12px system-ui, sans-serif; }
header { font-size: 16px; margin-bottom: 10px; }
header small { color: #8e8e8e; margin-left: 10px; }
main { position: relative; height: ${bottom}px; width: ${24 * columnPx}px; }
section { position: absolute; box-sizing: border-box; background: #181b1f; border: 1px solid #2c3235; border-radius: 2px; padding: 6px; overflow: hidden; }
h2 { margin: 0 0 6px; font-size: 13px; font-weight: 500; }
svg text { fill: #8e8e8e; font-size: 10px; }
svg .grid { stroke: #2c3235; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 10px; color: #8e8e8e; font-size: 11px; }
.legend i { display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; }
.none { color: #8e8e8e; text-align: center; margin-top: 40px; }
</style></head><body>
<header>${escapeHtml(dashboard.title)}<small>job = ${escapeHtml(range.job)} · the last ${Math.round(range.end - range.start)} s</small></header>
<main>
${boxes}
</main></body></html>`;
}
