// One certificate: status, balance, held, its ledger (amount, balance after, channel, store, time) and a balance chart; lock and unlock
// with a reason (gc.lock); the CVC for support (gc.cvc.support) with a ticket and a reason, masked until clicked and never kept;
// and its events live (the page follows /certificates/{id}/events and redraws on each).
import { enc } from '../api.js';
import { hasScope } from '../auth.js';
import { balanceChart } from '../chart.js';
import { field, h, money, notice, problemBox, replace, table, time } from '../dom.js';
import { follow } from '../sse.js';

export async function render(main, { parts }, ctx) {
  const id = parts[0] ?? '';
  const path = `/certificates/${enc(id)}`;
  main.append(h('h1', {}, `Certificate ${id}`));
  let certificate;
  let history;
  try {
    [certificate, history] = await Promise.all([ctx.api(path), ctx.api(`${path}/history`).then((r) => r.events)]);
  } catch (error) {
    main.append(problemBox(error));
    return null;
  }

  const live = h('span.badge.off', { id: 'live-status', role: 'status' }, 'Live: connecting');
  const facts = h('section', { 'aria-label': 'Certificate' });
  const chart = h('section', { 'aria-labelledby': 'chart-heading' });
  const ledger = h('section', { 'aria-labelledby': 'ledger-heading' });
  const actions = h('section.action-grid', { 'aria-label': 'Actions' });
  const messages = h('div', { id: 'cert-messages', 'aria-live': 'polite' });
  main.append(h('p', {}, live), messages, facts, actions, chart, ledger);

  const draw = () => {
    replace(facts, factsOf(certificate));
    replace(chart, h('h2', { id: 'chart-heading' }, 'Balance over time'), balanceChart(balancePoints(history), { currency: certificate.currency }));
    replace(ledger, h('h2', { id: 'ledger-heading' }, 'Ledger history'), ledgerOf(history, certificate.currency));
  };
  // the forms are drawn once (what the person types survives live updates); the lock form again only when the lock changes
  const lockHost = h('div');
  let drawnLocked = null;
  const drawLock = () => {
    if (!hasScope('gc.lock') || drawnLocked === certificate.locked) return;
    drawnLocked = certificate.locked;
    replace(lockHost, lockPanel(certificate, path, ctx, async (updated) => {
      certificate = updated;
      history = (await ctx.api(`${path}/history`)).events;
      draw();
      drawLock();
      replace(messages, notice(updated.locked ? `Locked: ${updated.lockReason ?? ''}` : 'Unlocked.'));
    }));
  };
  const refresh = async () => {
    [certificate, history] = await Promise.all([ctx.api(path), ctx.api(`${path}/history`).then((r) => r.events)]);
    draw();
    drawLock();
  };
  replace(actions, lockHost, hasScope('gc.cvc.support') ? cvcPanel(id, ctx) : null);
  draw();
  drawLock();

  const stop = new AbortController();
  (async () => {
    try {
      await follow(`${path}/events`, {
        signal: stop.signal,
        onFrame: async (frame) => {
          if (frame.event === 'ready') {
            live.className = 'badge live';
            live.textContent = 'Live: connected';
            await refresh().catch(() => {}); // what happened between the first load and the subscription
          } else if (frame.event === 'gcp-event') {
            if (!history.some((e) => e.eventId === frame.data.event.eventId)) {
              history = [...history, frame.data.event];
            }
            await refresh().catch(() => draw());
          } else if (frame.event === 'overflow') {
            live.className = 'badge off';
            live.textContent = 'Live: fell behind, reload the page';
          }
        },
      });
      if (!stop.signal.aborted) {
        live.className = 'badge off';
        live.textContent = 'Live: disconnected';
      }
    } catch (error) {
      live.className = 'badge off';
      live.textContent = `Live: ${error.title ?? 'unavailable'}`;
    }
  })();
  return () => stop.abort();
}

function factsOf(c) {
  const fact = (label, value, idName) => h('div', {}, h('dt', {}, label), h('dd', idName ? { id: idName } : {}, value ?? '—'));
  return h('dl.facts', {},
    fact('Status', [h('span.badge', { id: 'cert-status' }, c.status), c.locked ? h('span.badge.locked', { id: 'cert-locked' }, ' LOCKED') : null]),
    fact('Balance', money(c.balanceMinor, c.currency), 'cert-balance'),
    fact('Held', money(c.heldMinor, c.currency), 'cert-held'),
    fact('Nominal', money(c.nominalMinor, c.currency)),
    fact('Channel', c.channel),
    fact('Pool', h('a', { href: `#/tail?poolId=${encodeURIComponent(c.poolId)}` }, c.poolId)),
    c.locked ? fact('Lock reason', c.lockReason, 'cert-lock-reason') : null,
    c.orderId ? fact('Order', c.orderId) : null,
    c.clientId ? fact('Client', c.clientId) : null,
    fact('Issued', time(c.issuedAt)),
    c.reservedUntil ? fact('Reserved until', time(c.reservedUntil)) : null,
    fact('Updated', time(c.updatedAt)));
}

/** The balance after each event that says it (issue, redemptions, refunds, cancellation). */
export function balancePoints(history) {
  return history.filter((e) => e.balanceAfterMinor !== null && e.balanceAfterMinor !== undefined).map((e) => ({ at: e.occurredAt, value: e.balanceAfterMinor }));
}

function ledgerOf(history, currency) {
  if (history.length === 0) return h('p.muted', {}, 'No event yet.');
  const rows = [...history].reverse().map((e) => h('tr', { dataset: { eventType: e.eventType } },
    h('td', {}, time(e.occurredAt)),
    h('td', {}, e.eventType),
    h('td.num', {}, money(e.amountMinor, e.amountMinor === null ? null : e.currency ?? currency)),
    h('td.num', {}, money(e.balanceAfterMinor, e.balanceAfterMinor === null ? null : e.currency ?? currency)),
    h('td.num', {}, money(e.heldAfterMinor, null)),
    h('td', {}, e.channel),
    h('td', {}, e.storeId ?? '—'),
    h('td.wrap', {}, e.detail ?? '')));
  return table('Ledger history, newest first', ['Time', 'Event', { num: 'Amount' }, { num: 'Balance after' }, { num: 'Held after' }, 'Channel', 'Store', 'Detail'], rows);
}

function lockPanel(c, path, ctx, done) {
  const action = c.locked ? 'unlock' : 'lock';
  const reason = h('textarea', { name: 'reason', id: 'lock-reason', required: true, maxlength: '500' });
  const submit = h('button', { type: 'submit', class: c.locked ? 'secondary' : 'danger' }, c.locked ? 'Unlock' : 'Lock');
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form.stack.panel', { 'aria-labelledby': 'lock-heading' },
    h('h2', { id: 'lock-heading' }, c.locked ? 'Unlock this certificate' : 'Lock this certificate'),
    h('p.muted', {}, c.locked ? 'It can be used and its CVC disclosed again once unlocked.' : 'While locked, no payment and no CVC disclosure is accepted.'),
    field('Reason (required)', reason),
    h('div.actions', {}, submit),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    replace(status);
    try {
      const updated = await ctx.api(`${path}/${action}`, { method: 'POST', body: { reason: reason.value } });
      await done(updated);
    } catch (error) {
      replace(status, problemBox(error));
      submit.disabled = false;
    }
  });
  return form;
}

function cvcPanel(id, ctx) {
  const dev = ctx.config.devSupportTickets;
  const ticket = h('input', { name: 'ticket', id: 'cvc-ticket', required: true, autocomplete: 'off', placeholder: 'e.g. TICKET-123', pattern: '[A-Za-z0-9._:\\-]{1,64}' });
  const agent = h('input', { name: 'agent', id: 'cvc-agent', required: true, autocomplete: 'off', placeholder: 'e.g. agent.ivanova' });
  const grant = h('textarea', { name: 'grant', id: 'cvc-grant', required: true, spellcheck: 'false' });
  const reason = h('textarea', { name: 'reason', id: 'cvc-reason', required: true, maxlength: '500' });
  const submit = h('button', { type: 'submit' }, 'Disclose the CVC');
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form.stack.panel', { 'aria-labelledby': 'cvc-heading', autocomplete: 'off' },
    h('h2', { id: 'cvc-heading' }, 'CVC (support)'),
    h('p.muted', {}, dev
      ? 'Once per ticket, audited as a cvc.disclosed event. Development: the service\'s own signer stands in for the ticketing system.'
      : 'Once per ticket, audited as a cvc.disclosed event. Paste the grant the ticketing system signed for this ticket.'),
    field('Ticket', ticket),
    dev ? field('Agent', agent) : field('Ticket grant', grant),
    field('Reason (required)', reason),
    h('div.actions', {}, submit),
    result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    replace(result);
    try {
      let signed = grant.value.trim();
      if (dev) {
        signed = (await ctx.api('/dev/support-tickets', { method: 'POST', body: { certificateId: id, ticketId: ticket.value.trim(), agentId: agent.value.trim() } })).grant;
      }
      const disclosed = await ctx.api(`/certificates/${enc(id)}/cvc/support-disclosures`, { method: 'POST', body: { grant: signed, reason: reason.value } });
      replace(result, masked(disclosed.cvc));
      grant.value = '';
    } catch (error) {
      replace(result, problemBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** The CVC masked until the button is pressed; it lives in this closure and the page only (never stored, never cached). */
function masked(cvc) {
  let shown = false;
  const value = h('span.cvc-value', { id: 'cvc-value', 'aria-live': 'polite' }, '•••');
  const toggle = h('button.secondary', { type: 'button', id: 'cvc-toggle', 'aria-pressed': 'false' }, 'Show CVC');
  toggle.addEventListener('click', () => {
    shown = !shown;
    value.textContent = shown ? cvc : '•••';
    toggle.textContent = shown ? 'Hide CVC' : 'Show CVC';
    toggle.setAttribute('aria-pressed', String(shown));
  });
  return h('p', {}, 'CVC: ', value, toggle);
}
