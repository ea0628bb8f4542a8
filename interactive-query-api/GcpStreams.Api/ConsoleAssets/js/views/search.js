// Search with the API's filters (status, channel, pool, order, client) and its cursor paging; each page is its own address, so the
// browser's Back goes to the previous page.
import { enc } from '../api.js';
import { session } from '../auth.js';
import { field, h, money, problemBox, table, time } from '../dom.js';

const STATUSES = ['', 'RESERVED', 'ACTIVE', 'PARTIALLY_REDEEMED', 'EXHAUSTED', 'CANCELLED'];
const CHANNELS = ['', 'POS', 'INTERNET_STORE', 'MOBILE_APP', 'CALL_CENTER', 'PARTNER'];
const FILTERS = ['status', 'channel', 'poolId', 'orderId', 'clientId', 'pageSize'];

export async function render(main, { params }, ctx) {
  const me = session();
  const bound = me.channel;
  const backOffice = me.scopes.includes('gc.backoffice') && !bound;
  main.append(h('h1', {}, 'Search certificates'));

  const select = (name, values, label) => {
    const el = h('select', { name }, values.map((v) => h('option', { value: v }, v === '' ? `any ${label}` : v)));
    el.value = params.get(name) ?? '';
    return el;
  };
  const input = (name, placeholder) => h('input', { name, value: params.get(name) ?? '', placeholder, autocomplete: 'off', spellcheck: 'false' });
  const status = select('status', STATUSES, 'status');
  const channel = bound ? h('input', { name: 'channel', value: bound, readonly: true }) : select('channel', CHANNELS, 'channel');
  const pageSize = h('select', { name: 'pageSize' }, ['20', '50', '100'].map((v) => h('option', { value: v }, v)));
  pageSize.value = params.get('pageSize') ?? '20';
  const form = h('form.grid', { 'aria-label': 'Search filters' },
    field('Status', status),
    field(bound ? 'Channel (your client\'s)' : 'Channel', channel),
    field('Pool id', input('poolId', 'e.g. pos-1000-rub')),
    bound === 'POS' ? null : field('Order id', input('orderId', '')),
    backOffice ? field('Client id', input('clientId', '')) : null,
    field('Page size', pageSize),
    h('div.actions', {}, h('button', { type: 'submit' }, 'Search')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (value && FILTERS.includes(name) && !(bound && name === 'channel')) query.set(name, String(value).trim());
    }
    ctx.navigate(`#/search?${query}`);
  });
  main.append(form);

  const results = h('section', { 'aria-label': 'Results', 'aria-live': 'polite' });
  main.append(results);
  const query = new URLSearchParams();
  for (const name of [...FILTERS, 'cursor']) if (params.get(name)) query.set(name, params.get(name));
  if (!query.has('pageSize')) query.set('pageSize', '20');
  try {
    const page = await ctx.api(`/certificates?${query}`);
    const rows = page.items.map((c) => h('tr', {},
      h('td', {}, c.certificateId.includes('*')
        ? h('span', { title: 'Masked: type the full number in "Look up" to open it' }, c.certificateId)
        : h('a', { href: `#/certificates/${enc(c.certificateId)}` }, c.certificateId)),
      h('td', {}, c.status, c.locked ? h('span.badge.locked', {}, ' locked') : null),
      h('td.num', {}, money(c.balanceMinor, c.currency)),
      h('td.num', {}, money(c.heldMinor, c.currency)),
      h('td', {}, c.channel),
      h('td', {}, c.poolId),
      h('td', {}, time(c.updatedAt))));
    results.append(
      h('h2', {}, page.items.length === 0 ? 'No certificate on this page' : `${page.items.length} certificate${page.items.length === 1 ? '' : 's'} on this page`),
      page.items.length ? table('Certificates found', ['Number', 'Status', { num: 'Balance' }, { num: 'Held' }, 'Channel', 'Pool', 'Updated'], rows) : null);
    const pager = h('nav.pager', { 'aria-label': 'Pages' });
    if (params.get('cursor')) {
      const first = new URLSearchParams(query);
      first.delete('cursor');
      pager.append(h('a', { href: `#/search?${first}` }, 'First page'));
    }
    if (page.nextCursor) {
      const next = new URLSearchParams(query);
      next.set('cursor', page.nextCursor);
      pager.append(h('a', { href: `#/search?${next}`, rel: 'next' }, 'Next page'));
    } else {
      pager.append(h('span.muted', {}, 'End of the results.'));
    }
    results.append(pager);
  } catch (error) {
    results.append(problemBox(error));
  }
}
