// Sign-in. Embedded mode: a dev client of the service's development token endpoint, chosen here, with its secret (docs/api.md lists
// them). Authority mode: the authority's own sign-in page (authorization code with PKCE). The page itself holds no secret.
import { signInWithDevClient, startAuthoritySignIn } from '../auth.js';
import { field, h, problemBox, replace } from '../dom.js';

export function render(main, _route, ctx) {
  main.append(h('h1', {}, 'Sign in'));
  appendTo(main, ctx.config);
}

export function appendTo(main, config) {
  const status = h('div', { 'aria-live': 'polite' });
  if (config.mode === 'embedded') {
    const client = h('select', { name: 'client', id: 'signin-client', required: true },
      config.devClients.map((c) => h('option', { value: c.clientId }, `${c.clientId}${c.channel ? ' (' + c.channel + ')' : ''} — ${c.scopes.join(' ')}`)));
    const preferred = config.devClients.find((c) => c.clientId === 'support');
    if (preferred) client.value = preferred.clientId;
    const secret = h('input', { type: 'password', name: 'secret', id: 'signin-secret', required: true, autocomplete: 'off' });
    const submit = h('button', { type: 'submit' }, 'Sign in');
    const form = h('form.stack', { 'aria-label': 'Sign in with a development client' },
      h('p.muted', {}, 'Development sign-in: the service\'s own token endpoint (embedded mode). Choose a dev client and type its secret (docs/api.md, "Authentication").'),
      field('Client', client),
      field('Client secret', secret),
      h('div.actions', {}, submit),
      status);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      replace(status);
      try {
        await signInWithDevClient(config, client.value, secret.value);
        secret.value = '';
        location.hash = '#/';
      } catch (error) {
        replace(status, problemBox(error));
        secret.focus();
      } finally {
        submit.disabled = false;
      }
    });
    main.append(form);
    return;
  }
  if (config.mode === 'authority') {
    const host = new URL(config.authorizeEndpoint).host;
    const button = h('button', { type: 'button' }, `Sign in with ${host}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await startAuthoritySignIn(config);
      } catch (error) {
        button.disabled = false;
        replace(status, problemBox(error));
      }
    });
    main.append(h('p', {}, 'You sign in on your organisation\'s sign-in page and come back here.'), h('div.actions', {}, button), status);
    return;
  }
  main.append(problemBox({
    title: 'Sign-in is not configured',
    detail: 'This service validates tokens of an external authority (Auth:Mode=Authority) but the console has no client there: set Console:ClientId, Console:AuthorizeEndpoint and Console:TokenEndpoint (docs/operations.md).',
  }));
}
