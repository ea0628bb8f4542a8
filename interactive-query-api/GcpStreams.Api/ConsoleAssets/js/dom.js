// Building the page from nodes (never from markup: the console's Content-Security-Policy requires Trusted Types for HTML sinks,
// and text from the API is always text), and the formats the pages share.

/** h('tag.class', {attr: value, onclick: fn}, ...children): an element; children are nodes, strings, arrays, or null/false (skipped). */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces every child of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Minor units as money: 150050, 'RUB' -> '1 500.50 RUB'. */
export function money(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}${whole}.${cents}${currency ? ' ' + currency : ''}`;
}

/** An ISO time as the operator's local date and time (seconds), or '—'. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The problem box: title and detail of an error (an ApiError carries the service's problem details; nothing else is shown of an error). */
export function problemBox(error) {
  const title = error?.title ?? 'Something went wrong';
  const detail = error?.detail ?? '';
  return h('div.problem', { role: 'alert' }, h('strong', {}, title), detail ? h('span', {}, detail) : null);
}

export function notice(text) {
  return h('div.notice', { role: 'status' }, text);
}

/** A labelled form field. */
export function field(label, control) {
  if (!control.id) control.id = 'f-' + Math.random().toString(36).slice(2, 9);
  return h('div.field', {}, h('label', { for: control.id }, label), control);
}

/** A table in a scrolling wrapper (the page itself never scrolls sideways). */
export function table(caption, headers, rows) {
  return h('div.table-wrap', { tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption.visually-hidden', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h(typeof t === 'string' ? 'th' : 'th.num', { scope: 'col' }, typeof t === 'string' ? t : t.num)))),
      h('tbody', {}, rows)));
}
