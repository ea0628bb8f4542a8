// A live tail of GiftCertificates.Stream for one certificate or one pool, from the service's read model (Server-Sent Events).
import { enc } from '../api.js';
import { field, h, money, problemBox, replace, time } from '../dom.js';
import { follow } from '../sse.js';

const MAX_SHOWN = 200;

export function render(main, { params }, ctx) {
  main.append(h('h1', {}, 'Live tail'));
  const certificateId = params.get('certificateId') ?? '';
  const poolId = params.get('poolId') ?? '';
  const kind = h('select', { name: 'kind' }, h('option', { value: 'certificate' }, 'Certificate'), h('option', { value: 'pool' }, 'Pool'));
  kind.value = poolId ? 'pool' : 'certificate';
  const target = h('input', { name: 'id', required: true, value: poolId || certificateId, autocomplete: 'off', spellcheck: 'false' });
  const form = h('form.grid', { 'aria-label': 'What to follow' }, field('Follow', kind), field('Certificate number or pool id', target), h('div.actions', {}, h('button', { type: 'submit' }, 'Follow')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = kind.value === 'pool' ? 'poolId' : 'certificateId';
    ctx.navigate(`#/tail?${key}=${encodeURIComponent(target.value.trim())}`);
  });
  main.append(form);
  if (!certificateId && !poolId) {
    main.append(h('p.muted', {}, 'Events appear here as the service applies them, newest first.'));
    return null;
  }

  const status = h('span.badge.off', { id: 'tail-status', role: 'status' }, 'connecting');
  const problems = h('div');
  const list = h('ol.events', { id: 'tail-events', 'aria-label': 'Events, newest first', 'aria-live': 'polite', reversed: true });
  const empty = h('p.muted', { id: 'tail-empty' }, 'No event since the tail opened.');
  main.append(h('h2', {}, poolId ? `Pool ${poolId}` : `Certificate ${certificateId}`, ' ', status), problems, empty, list);
  const path = poolId ? `/pools/${enc(poolId)}/events` : `/certificates/${enc(certificateId)}/events`;
  const stop = new AbortController();
  (async () => {
    try {
      await follow(path, {
        signal: stop.signal,
        onFrame: (frame) => {
          if (frame.event === 'ready') {
            status.className = 'badge live';
            status.textContent = 'connected';
          } else if (frame.event === 'gcp-event') {
            empty.remove();
            list.prepend(item(frame.data));
            while (list.children.length > MAX_SHOWN) list.lastElementChild.remove();
          } else if (frame.event === 'overflow') {
            replace(problems, problemBox({ title: 'The tail fell behind', detail: frame.data.detail }));
          }
        },
      });
      if (!stop.signal.aborted) {
        status.className = 'badge off';
        status.textContent = 'ended';
        problems.append(h('p', {}, h('a', { href: location.hash }, 'Follow again')));
      }
    } catch (error) {
      status.className = 'badge off';
      status.textContent = 'not connected';
      replace(problems, problemBox(error));
    }
  })();
  return () => stop.abort();
}

function item({ certificateId, event }) {
  const amount = event.amountMinor !== null && event.amountMinor !== undefined ? ` · ${money(event.amountMinor, event.currency)}` : '';
  const balance = event.balanceAfterMinor !== null && event.balanceAfterMinor !== undefined ? ` · balance ${money(event.balanceAfterMinor, event.currency)}` : '';
  return h('li', { dataset: { eventType: event.eventType } },
    h('strong', {}, event.eventType), ' ',
    h('span.muted', {}, time(event.occurredAt)),
    certificateId ? [' · ', certificateId.includes('*') ? certificateId : h('a', { href: `#/certificates/${encodeURIComponent(certificateId)}` }, certificateId)] : null,
    amount, balance,
    event.storeId ? ` · store ${event.storeId}` : '',
    event.detail ? h('div.muted', {}, event.detail) : null);
}
