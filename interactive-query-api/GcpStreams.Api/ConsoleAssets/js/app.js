// The console's shell: reads how to sign in (/console/config.json), completes an authority sign-in, then routes on the address's
// fragment: #/signin, #/search, #/certificates/{id}, #/pools, #/tail, #/reports. Each view renders into <main> and may return a
// function that stops what it started (a live tail) when the person leaves it.
import { api, ApiError } from './api.js';
import { completeAuthoritySignIn, hasScope, session, signOut } from './auth.js';
import { h, problemBox, replace } from './dom.js';
import * as certificate from './views/certificate.js';
import * as pools from './views/pools.js';
import * as reports from './views/reports.js';
import * as search from './views/search.js';
import * as signin from './views/signin.js';
import * as tail from './views/tail.js';

const main = document.getElementById('main');
let leave = null;
let config = null;

/** Whether the signed-in caller may search: back office, or bound to a channel (the service decides; this only hides the page). */
export function maySearch() {
  const s = session();
  return !!s && (s.scopes.includes('gc.backoffice') || !!s.channel);
}

function parse(hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function home() {
  if (hasScope('gc.report') && !hasScope('gc.read')) return '#/reports'; // BI: the reports are all it may read
  return maySearch() ? '#/search' : '#/pools';
}

function shell() {
  const s = session();
  const signedIn = !!s;
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('lookup').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  if (signedIn) {
    document.getElementById('who-name').textContent = `${s.subject || s.clientId}${s.channel ? ' · ' + s.channel : ''}`;
    document.querySelector('[data-nav="search"]').hidden = !maySearch();
    document.querySelector('[data-nav="reports"]').hidden = !hasScope('gc.report');
  }
}

function mark(section) {
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let generation = 0; // the route that owns <main>: a view still rendering for an earlier route writes into a page no longer shown

async function route() {
  const mine = ++generation;
  if (leave) {
    try { leave(); } catch { /* the old view is gone anyway */ }
    leave = null;
  }
  shell();
  const { parts, params } = parse(location.hash);
  const section = parts[0] ?? '';
  if (!session() && section !== 'signin') {
    location.replace('#/signin');
    return;
  }
  if (session() && (section === '' || section === 'signin')) {
    location.replace(home());
    return;
  }
  mark(section === 'certificates' ? 'search' : section);
  const ctx = { config, navigate, api };
  const views = { signin, search, certificates: certificate, pools, tail, reports };
  const view = views[section];
  const page = h('div.page');
  replace(main, page);
  if (!view) {
    replace(page, h('h1', { tabindex: '-1' }, 'Not found'), problemBox({ title: 'No such page', detail: `The console has no page '${location.hash}'.` }));
  } else {
    try {
      const left = (await view.render(page, { parts: parts.slice(1), params }, ctx)) ?? null;
      if (mine !== generation) {
        if (left) left(); // another route took <main> while this view rendered: its page is gone, so is what it opened
        return;
      }
      leave = left;
    } catch (e) {
      if (!(e instanceof ApiError)) console.error('console view failed', e); // a fault of the page itself: for the developer's tools
      replace(page, h('h1', { tabindex: '-1' }, 'Error'), problemBox(e instanceof ApiError ? e : { title: 'The page failed', detail: 'Reload the page; if it fails again, tell the service team.' }));
    }
  }
  if (mine !== generation) return;
  const heading = main.querySelector('h1');
  // the new page's heading takes the focus, unless someone is typing a number into the top bar's lookup meanwhile
  const typing = document.activeElement?.id === 'lookup-id' && document.activeElement.value !== '';
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    if (!typing) heading.focus({ preventScroll: false });
  }
  document.title = `${heading?.textContent ?? 'Console'} · GcpStreams console`;
}

async function start() {
  document.getElementById('sign-out').addEventListener('click', () => {
    signOut();
    navigate('#/signin');
  });
  document.getElementById('lookup').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = document.getElementById('lookup-id');
    const id = input.value.trim();
    if (id) {
      input.value = '';
      navigate(`#/certificates/${encodeURIComponent(id)}`);
    }
  });
  try {
    const response = await fetch('config.json', { cache: 'no-store', credentials: 'omit' });
    config = await response.json();
  } catch {
    replace(main, h('h1', {}, 'Console unavailable'), problemBox({ title: 'The service did not answer', detail: 'Reload the page to try again.' }));
    return;
  }
  try {
    if (config.mode === 'authority') await completeAuthoritySignIn(config);
  } catch (e) {
    replace(main, h('h1', { tabindex: '-1' }, 'Sign in'), problemBox(e));
    signin.appendTo(main, config);
    return;
  }
  window.addEventListener('hashchange', route);
  await route();
}

start();
