// A small SVG line chart (no library, nothing fetched): a certificate's balance over time as a step line, each change a dot
// with its value in a tooltip. The chart is an image with a text alternative; the ledger table next to it has the same numbers.
import { money, time } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Points {at: Date|string, value: number} (minor units) as an SVG step chart; `now` closes the last step. */
export function balanceChart(points, { currency = '', width = 640, height = 220, now = new Date(), label = 'Balance over time' } = {}) {
  const data = points.map((p) => ({ at: new Date(p.at).getTime(), value: p.value })).filter((p) => Number.isFinite(p.at)).sort((a, b) => a.at - b.at);
  const root = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc' });
  root.append(svg('title', { id: 'chart-title' }, label));
  const summary = data.length === 0
    ? 'No balance change yet.'
    : `${data.length} balance change${data.length === 1 ? '' : 's'}, from ${money(data[0].value, currency)} to ${money(data[data.length - 1].value, currency)}.`;
  root.append(svg('desc', { id: 'chart-desc' }, summary));
  if (data.length === 0) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'No balance change yet'));
    return root;
  }

  const pad = { left: 78, right: 16, top: 14, bottom: 30 };
  const start = data[0].at;
  const end = Math.max(now.getTime(), data[data.length - 1].at, start + 1000);
  const max = Math.max(...data.map((p) => p.value), 1);
  const x = (t) => pad.left + ((t - start) / (end - start)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);

  for (const v of [0, max / 2, max]) {
    root.append(svg('line', { class: 'grid', x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }));
    root.append(svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, money(Math.round(v), '')));
  }
  root.append(svg('line', { class: 'axis', x1: pad.left, x2: pad.left, y1: pad.top, y2: height - pad.bottom }));
  root.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: height - pad.bottom, y2: height - pad.bottom }));
  root.append(svg('text', { x: pad.left, y: height - 10, 'text-anchor': 'start' }, time(new Date(start).toISOString())));
  root.append(svg('text', { x: width - pad.right, y: height - 10, 'text-anchor': 'end' }, time(new Date(end).toISOString())));

  let line = `M ${x(data[0].at)} ${y(data[0].value)}`;
  for (let i = 1; i < data.length; i++) line += ` H ${x(data[i].at)} V ${y(data[i].value)}`;
  line += ` H ${x(end)}`;
  const area = `${line} V ${y(0)} H ${x(data[0].at)} Z`;
  root.append(svg('path', { class: 'area', d: area }));
  root.append(svg('path', { class: 'line', d: line }));
  for (const p of data) {
    const dot = svg('circle', { class: 'dot', cx: x(p.at), cy: y(p.value), r: 3.5 });
    dot.append(svg('title', {}, `${time(new Date(p.at).toISOString())}: ${money(p.value, currency)}`));
    root.append(dot);
  }
  return root;
}
