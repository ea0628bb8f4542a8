// Pools: levels per pool against the low watermark, reservations in flight, issue.blocked counts.
import { h, money, problemBox, table, time } from '../dom.js';

export async function render(main, _route, ctx) {
  main.append(h('h1', {}, 'Pools'));
  let pools;
  try {
    pools = (await ctx.api('/pools')).items;
  } catch (error) {
    main.append(problemBox(error));
    return;
  }
  if (pools.length === 0) {
    main.append(h('p.muted', {}, 'No pool is visible to this client.'));
    return;
  }
  const rows = pools.map((p) => h('tr', { dataset: { pool: p.poolId } },
    h('th', { scope: 'row' }, p.poolId),
    h('td', {}, p.channel),
    h('td.num', {}, money(p.nominalMinor, p.currency)),
    h('td.num', {}, String(p.available), ' ', h('meter', { min: '0', max: String(Math.max(p.loaded, 1)), low: String(p.lowWatermark), optimum: String(Math.max(p.loaded, 1)), value: String(p.available), 'aria-label': `${p.available} of ${p.loaded} available` })),
    h('td.num', {}, String(p.lowWatermark)),
    h('td', {}, p.isLow ? h('span.badge.low', {}, 'LOW') : h('span.badge', {}, 'ok')),
    h('td.num', {}, String(p.reserved)),
    h('td.num', {}, String(p.issued)),
    h('td.num', {}, String(p.loaded)),
    h('td.num', { 'data-col': 'blocked' }, String(p.issueBlocked)),
    h('td', {}, time(p.updatedAt)),
    h('td', {}, h('a', { href: `#/tail?poolId=${encodeURIComponent(p.poolId)}`, 'aria-label': `Live tail of ${p.poolId}` }, 'Live tail'))));
  main.append(
    h('p.muted', {}, 'Available against the low watermark; reserved: reservations in flight (not yet issued nor expired); issue.blocked: reservations refused because the pool was empty.'),
    table('Pools', ['Pool', 'Channel', { num: 'Nominal' }, { num: 'Available' }, { num: 'Low watermark' }, 'Level', { num: 'Reserved' }, { num: 'Issued' }, { num: 'Loaded' }, { num: 'issue.blocked' }, 'Updated', ''], rows));
}
