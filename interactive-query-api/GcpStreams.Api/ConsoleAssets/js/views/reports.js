// The daily report per channel (GET /reports/daily, scope gc.report): for a period (the last 7 days unless the address says
// ?from=&to=), one section per channel with a chart of its outstanding liability at the end of each day and a table of the day's
// figures. Every number comes from the service; an error shows its problem details only.
import { balanceChart } from '../chart.js';
import { h, money, problemBox, table } from '../dom.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function count(figure, amount) {
  return amount ? `${figure} · ${money(amount, '')}` : String(figure);
}

export async function render(main, route, ctx) {
  main.append(h('h1', { tabindex: '-1' }, 'Daily report'));
  const today = new Date();
  const asked = (name, fallback) => (DAY.test(route.params.get(name) ?? '') ? route.params.get(name) : fallback);
  const from = asked('from', isoDay(new Date(today.getTime() - 6 * 86_400_000)));
  const to = asked('to', isoDay(today));
  const fromInput = h('input', { type: 'date', id: 'report-from', name: 'from', value: from, required: true });
  const toInput = h('input', { type: 'date', id: 'report-to', name: 'to', value: to, required: true });
  main.append(h('form.filters', {
    id: 'report-period',
    onsubmit: (e) => {
      e.preventDefault();
      ctx.navigate(`#/reports?from=${encodeURIComponent(fromInput.value)}&to=${encodeURIComponent(toInput.value)}`);
    },
  }, h('label', { for: 'report-from' }, 'From'), fromInput, h('label', { for: 'report-to' }, 'To'), toInput, h('button', { type: 'submit' }, 'Show')));

  let report;
  try {
    report = await ctx.api(`/reports/daily?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  } catch (error) {
    main.append(problemBox(error));
    return;
  }
  if (report.days.length === 0) {
    main.append(h('p.muted', { id: 'reports-empty' }, `No event from ${from} to ${to}.`));
    return;
  }
  main.append(h('p.muted', {}, 'Business days in ', report.days[0].timeZone, '; a day is final after its grace period. Counts · amounts; liability: the balances outstanding at the end of the day.'));
  const channels = [...new Set(report.days.map((d) => d.channel))];
  for (const channel of channels) {
    const days = report.days.filter((d) => d.channel === channel);
    const chart = balanceChart(days.map((d) => ({ at: `${d.day}T12:00:00Z`, value: d.liabilityMinor })),
      { label: `Outstanding liability of ${channel} per day`, now: new Date(`${days[days.length - 1].day}T12:00:00Z`) });
    // one chart per channel: ids unique on the page
    for (const [part, id] of [['title', `chart-title-${channel}`], ['desc', `chart-desc-${channel}`]]) chart.querySelector(part).id = id;
    chart.setAttribute('aria-labelledby', `chart-title-${channel} chart-desc-${channel}`);
    const rows = days.map((d) => h('tr', { dataset: { day: d.day, channel } },
      h('th', { scope: 'row' }, d.day, d.final ? '' : ' (open)'),
      h('td.num', { 'data-col': 'issued' }, count(d.issuedCount, d.issuedMinor)),
      h('td.num', { 'data-col': 'redeemed' }, count(d.redeemedCount, d.redeemedMinor)),
      h('td.num', {}, count(d.refundedCount, d.refundedMinor)),
      h('td.num', {}, count(d.cancelledCount, d.cancelledMinor)),
      h('td.num', { 'data-col': 'blocked' }, String(d.issueBlockedCount)),
      h('td.num', {}, `${d.lockedCount} / ${d.unlockedCount}`),
      h('td.num', { 'data-col': 'liability' }, money(d.liabilityMinor, '')),
      h('td', { 'data-col': 'reconciliation' }, d.reconciliationMismatches.length === 0 ? 'agrees' : `mismatch: ${d.reconciliationMismatches.join(', ')}`)));
    main.append(h('section', { 'data-channel': channel },
      h('h2', {}, channel),
      h('figure', {}, chart),
      table(`Daily report of ${channel}`, ['Day', { num: 'Issued' }, { num: 'Redeemed' }, { num: 'Refunded' }, { num: 'Cancelled' }, { num: 'issue.blocked' },
        { num: 'Locked / unlocked' }, { num: 'Liability' }, 'Orders'], rows)));
  }
}
